import Foundation
import Testing

@testable import Awesomegrad

/// Replays every input under Fixtures/fuzz/<target>/ through the reader its fuzz target exercises
/// (see Fuzz/FuzzTargets.swift). Each must give a result or a typed error; a trap fails the run.
@Suite struct FuzzRegressionTests {
  /// The inputs kept for one target, as (file name, bytes).
  static func inputs(_ target: String) throws -> [(String, [UInt8])] {
    let readme = try #require(
      Bundle.module.url(forResource: "README", withExtension: "md", subdirectory: "Fixtures/fuzz"))
    let directory = readme.deletingLastPathComponent().appendingPathComponent(target)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return try names.sorted().map {
      ($0, [UInt8](try Data(contentsOf: directory.appendingPathComponent($0))))
    }
  }

  @Test func safetensorsInputs() throws {
    for (name, bytes) in try Self.inputs("safetensors") {
      do {
        let file = try SafeTensorsFile(bytes: bytes, path: name)
        for tensor in file.names { _ = try file.doubles(tensor) }
      } catch {
        #expect(!error.description.isEmpty, "\(name)")
      }
    }
  }

  /// The zero-leading-dimension inputs (hand-made, and the one the fuzzer found with the fix
  /// reverted) are refused as too large.
  @Test func idxGzipInputs() throws {
    let inputs = try Self.inputs("idx-gzip")
    #expect(inputs.map(\.0).contains("zero-leading-dimension.idx3"))
    for (name, bytes) in inputs {
      let tooLarge = name.hasPrefix("zero-leading-dimension") || name.hasPrefix("crash-bdf39039")
      do {
        let data =
          Gzip.isGzip(bytes) ? try Gzip.decompress(bytes, path: name, maxDecompressedBytes: 1 << 22) : bytes
        let array = try IDXArray(decoded: data, path: name, rank: nil)
        #expect(!tooLarge, "\(name) was accepted with shape \(array.shape)")
        #expect(array.bytes.count == array.shape.reduce(1, *), "\(name)")
        // Every stride (product of trailing sizes), and so rows × columns, fits in an Int.
        var product = 1
        for size in array.shape.reversed() {
          let (next, overflow) = product.multipliedReportingOverflow(by: size)
          #expect(!overflow, "\(name)")
          product = next
        }
      } catch {
        if tooLarge { #expect(error.description.contains("too large"), "\(name)") }
      }
    }
  }

  @Test func csvInputs() throws {
    for (name, bytes) in try Self.inputs("csv") where !bytes.isEmpty {
      let options = bytes[0]
      let label: CSVTable.LabelColumn? =
        switch options & 3 {
        case 0: nil
        case 1: .index(-1)
        case 2: .index(Int(options >> 2) - 8)
        default: .name("y")
        }
      if let table = try? CSVTable(
        decoded: Array(bytes.dropFirst()), path: name, hasHeader: options & 4 != 0, labelColumn: label,
        separator: options & 0x80 != 0 ? ";" : ",")
      {
        #expect(table.features.count == table.rowCount * table.featureCount, "\(name)")
      }
    }
  }
}
