import Foundation
import TestSupport
import Testing

/// `fashion-mnist --max-steps N` stops after N global batches, in one process and on 2 ranks, and the
/// JSON reports `steps` and `seconds_per_step`, with `seconds_per_epoch` over whole epochs only.
///
/// The data are 12 training and 6 test images written as plain IDX files (the format's magic numbers
/// 0x0803 and 0x0801, sizes big-endian), so that the test needs no data set: at batch 4 an epoch is 3
/// batches.
@Suite(.serialized) struct FashionMaxStepsTests {
  /// A directory with the four IDX files of `train` and `test` images of pixel value i·7 mod 256.
  static func makeData(train: Int, test: Int) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "fashion-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    func bigEndian(_ value: UInt32) -> [UInt8] {
      (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
    }
    for (name, count) in [("train", train), ("t10k", test)] {
      let pixels = (0..<(count * 784)).map { UInt8(truncatingIfNeeded: $0 * 7) }
      let images = bigEndian(0x0803) + bigEndian(UInt32(count)) + bigEndian(28) + bigEndian(28) + pixels
      let labels = bigEndian(0x0801) + bigEndian(UInt32(count)) + (0..<count).map { UInt8($0 % 10) }
      try Data(images).write(to: directory.appendingPathComponent("\(name)-images-idx3-ubyte"))
      try Data(labels).write(to: directory.appendingPathComponent("\(name)-labels-idx1-ubyte"))
    }
    return directory
  }

  /// Runs the built example (under `mpirun -np 2` when `ranks` is 2) and parses its one JSON object;
  /// `stderr` receives its standard error.
  func fashion(_ arguments: [String], ranks: Int = 1, stderr: UnsafeMutablePointer<String>? = nil) throws
    -> [String: Any]
  {
    let data = try Self.makeData(train: 12, test: 6)
    defer { try? FileManager.default.removeItem(at: data) }
    let example = try #require(
      ExampleProcess.executable("fashion-mnist"),
      "the fashion-mnist executable is not next to the test bundle")
    var environment = ProcessInfo.processInfo.environment
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    let common = ["--data", data.path, "--json"] + arguments
    let run: MPIEquivalenceTests.Run
    if ranks > 1 {
      let mpirun = try #require(
        MPIEquivalenceTests.findInPath("mpirun"), "mpirun not found: run scripts/install-deps")
      run = try MPIEquivalenceTests.run(
        mpirun,
        ["-np", "\(ranks)", "--oversubscribe", "--timeout", "240", example.path, "--distributed"] + common,
        environment: environment, deadline: 300)
    } else {
      run = try MPIEquivalenceTests.run(example, common, environment: environment, deadline: 300)
    }
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    stderr?.pointee = run.stderr
    let line = try #require(run.stdout.split(separator: "\n").last { $0.hasPrefix("{") }, "\(run.stdout)")
    return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
  }

  @Test func stopsInsideTheFirstEpoch() throws {
    let json = try fashion(["--batch-size", "4", "--max-steps", "2"])
    #expect(json["steps"] as? Int == 2 && json["epochs"] as? Int == 1)
    #expect(json["seconds_per_epoch"] is NSNull, "no whole epoch ran: \(json)")
    #expect((json["seconds_per_step"] as? Double ?? 0) > 0)
  }

  /// 3 batches per epoch: --max-steps 5 runs one whole epoch and 2 batches of the second.
  @Test func countsWholeEpochsOnly() throws {
    let json = try fashion(["--batch-size", "4", "--epochs", "3", "--max-steps", "5"])
    #expect(json["steps"] as? Int == 5 && json["epochs"] as? Int == 2)
    #expect((json["seconds_per_epoch"] as? Double ?? 0) > 0)
    let whole = try fashion(["--batch-size", "4", "--epochs", "2"])
    #expect(whole["steps"] as? Int == 6 && whole["epochs"] as? Int == 2)
  }

  /// With `--checkpoint-dir`, a run that `--max-steps 2` ended inside the first epoch resumes there:
  /// `--max-steps 5` then counts the run's global steps, 2 before and 3 after the resume.
  @Test func resumesWhereMaxStepsStopped() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let common = ["--batch-size", "4", "--epochs", "3", "--checkpoint-dir", directory.path]
    let first = try fashion(common + ["--max-steps", "2"])
    #expect(first["steps"] as? Int == 2)
    var stderr = ""
    let second = try fashion(common + ["--max-steps", "5"], stderr: &stderr)
    #expect(stderr.contains("resumed"), "\(stderr)")
    #expect(second["steps"] as? Int == 5 && second["epochs"] as? Int == 2, "\(second)")
    #expect((second["seconds_per_epoch"] as? Double ?? 0) > 0)
  }

  /// 2 ranks of batch 2 (global batch 4) stop together after 2 global batches.
  @Test func stopsEveryRankAtTheSameGlobalBatch() throws {
    let json = try fashion(["--batch-size", "2", "--max-steps", "2"], ranks: 2)
    #expect(json["steps"] as? Int == 2 && json["ranks"] as? Int == 2)
    #expect(json["seconds_per_epoch"] is NSNull)
  }
}
