import AwesomegradDatasets
import Foundation
import Testing

@testable import Awesomegrad

/// A fresh temporary directory for one test's files.
func makeTemporaryDirectory() throws -> String {
  let path = NSTemporaryDirectory() + "awesomegrad-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// The path of a fixture under Fixtures/gzip.
func gzipFixture(_ name: String) throws -> String {
  let url = try #require(
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/gzip"))
  return url.path
}

@Suite struct IDXTests {
  /// The fixture array [5, 4, 4]: pixel k = (37k + 11) mod 256 (see make_gzip_fixtures.py).
  static let expectedPixels = (0..<80).map { UInt8((37 * $0 + 11) % 256) }

  /// Level-9 gzip with a file name in the header (fixed Huffman block) and level-0 gzip (stored
  /// block) both decode to the same IDX array.
  @Test(arguments: ["images.idx3.gz", "images_stored.idx3.gz"])
  func readsGzippedImages(name: String) throws {
    let array = try IDXArray(contentsOf: gzipFixture(name), rank: 3)
    #expect(array.shape == [5, 4, 4])
    #expect(array.bytes == Self.expectedPixels)
  }

  /// An uncompressed IDX file reads the same way.
  @Test func readsPlainIDX() throws {
    let path = try makeTemporaryDirectory() + "/labels.idx1"
    try Data([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]).write(to: URL(fileURLWithPath: path))
    let array = try IDXArray(contentsOf: path, rank: 1)
    #expect(array == IDXArray(shape: [3], bytes: [7, 8, 9]))
  }

  /// MNISTSplit pairs images with labels and scales pixels to [0, 1]: pixel 0 of image 1 is
  /// (37·16 + 11) mod 256 = 91 → 91/255.
  @Test func mnistSplitBatch() throws {
    let split = try MNISTSplit(images: gzipFixture("images.idx3.gz"), labels: gzipFixture("labels.idx1.gz"))
    #expect(split.count == 5)
    #expect(split.labels == [3, 1, 4, 1, 5])
    #expect(split.featureCount == 16)
    let batch = split.batch([1, 0], as: Double.self)
    #expect(batch.shape == [2, 16])
    #expect(batch.scalars[0] == 91.0 / 255)
    #expect(batch.scalars[16] == 11.0 / 255)
    // Standardised: (x/255 − 0.5)/0.25.
    let standardised = split.batch([1], mean: 0.5, standardDeviation: 0.25, as: Double.self)
    #expect(standardised.scalars[0] == (91.0 / 255 - 0.5) / 0.25)
  }

  @Test func missingFileSaysWhatToDo() throws {
    let path = try makeTemporaryDirectory() + "/nothing.gz"
    #expect(throws: DataError.fileNotFound(path: path, hint: "Install it.")) {
      try IDXArray(contentsOf: path, hint: "Install it.")
    }
    // The message checks run on the error #expect caught: if nothing is thrown, #expect fails.
    let error = #expect(throws: DataError.self) {
      try IDXArray(contentsOf: path, hint: "Install it with make fashion.")
    }
    #expect(error?.description.contains("file not found") == true, "\(String(describing: error))")
    #expect(error?.description.contains("make fashion") == true, "\(String(describing: error))")
  }

  /// A labels file (magic 0x801) read where images (rank 3, magic 0x803) are expected.
  @Test func wrongMagicNumber() throws {
    #expect(
      throws: DataError.wrongMagicNumber(
        path: try gzipFixture("labels.idx1.gz"), expected: 0x803, found: 0x801)
    ) {
      try IDXArray(contentsOf: try gzipFixture("labels.idx1.gz"), rank: 3)
    }
  }

  /// The header announces [2, 3] (6 bytes) but only 4 follow: 8 + 6 = 14 bytes expected, 12 found.
  @Test func truncatedIDX() throws {
    let path = try makeTemporaryDirectory() + "/short.idx2"
    try Data([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4]).write(to: URL(fileURLWithPath: path))
    #expect(throws: DataError.truncated(path: path, expectedBytes: 18, actualBytes: 16)) {
      try IDXArray(contentsOf: path)
    }
  }

  /// A header whose sizes multiply past Int.max ((2³² − 1)³) is an error, not a trap.
  @Test func oversizedHeaderIsInconsistent() throws {
    let path = try makeTemporaryDirectory() + "/huge.idx3"
    try Data([0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [1, 2]).write(
      to: URL(fileURLWithPath: path))
    #expect {
      try IDXArray(contentsOf: path)
    } throws: { error in
      guard case .inconsistent(_, let reason) = error as? DataError else { return false }
      return reason.contains("too large")
    }
  }

  /// Regression: a leading size of 0 made the element count 0, so the overflow test passed for
  /// [0, 2³² − 1, 2³² − 1], and MNISTSplit's rows × columns = (2³² − 1)² then trapped. The product
  /// of the non-zero sizes must fit in an Int too.
  @Test func zeroLeadingSizeDoesNotHideOverflow() throws {
    let directory = try makeTemporaryDirectory()
    let images = directory + "/images.idx3", labels = directory + "/labels.idx1"
    try Data([0, 0, 8, 3, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)).write(
      to: URL(fileURLWithPath: images))
    try Data([0, 0, 8, 1, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: labels))
    #expect {
      try IDXArray(contentsOf: images)
    } throws: { error in
      guard case .inconsistent(_, let reason) = error as? DataError else { return false }
      return reason.contains("too large")
    }
    #expect(throws: DataError.self) { try MNISTSplit(images: images, labels: labels) }
    // Zero images of 2¹⁶ × 2¹⁶ pixels are consistent (the product 2³² fits): an empty split.
    try Data([0, 0, 8, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]).write(to: URL(fileURLWithPath: images))
    let empty = try MNISTSplit(images: images, labels: labels)
    #expect(empty.count == 0 && empty.featureCount == 1 << 32)
  }

  /// The decompressed size is capped: squares.txt.gz inflates to 15,328 bytes (see
  /// dynamicHuffmanBlocks), more than a cap of 1,000.
  @Test func decompressedSizeIsCapped() throws {
    let path = try gzipFixture("squares.txt.gz")
    #expect(throws: DataError.decompressedTooLarge(path: path, limit: 1000)) {
      try IDXArray(contentsOf: path, maxDecompressedBytes: 1000)
    }
    #expect(try readFileBytes(path, hint: "", maxDecompressedBytes: 15_328).count == 15_328)
    #expect(throws: DataError.decompressedTooLarge(path: path, limit: 15_327)) {
      try readFileBytes(path, hint: "", maxDecompressedBytes: 15_327)
    }
  }

  /// A trailer claiming 4 GiB (ISIZE = 0xFFFFFFFF) is only a hint: the 96 real bytes decode, and the
  /// mismatch with the trailer is reported.
  @Test func lyingSizeTrailer() throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gzipFixture("images.idx3.gz"))))
    for i in bytes.count - 4..<bytes.count { bytes[i] = 0xFF }
    let path = try makeTemporaryDirectory() + "/liar.gz"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    #expect(
      throws: DataError.corruptGzip(
        path: path, reason: "the trailer says 4294967295 bytes (mod 2³²), the data has 96")
    ) {
      try IDXArray(contentsOf: path)
    }
  }

  /// A damaged CRC-32 in the gzip trailer is reported as a checksum mismatch.
  @Test func crcMismatch() throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gzipFixture("images.idx3.gz"))))
    bytes[bytes.count - 8] ^= 0xFF
    let path = try makeTemporaryDirectory() + "/damaged.gz"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    #expect(
      throws: DataError.checksumMismatch(path: path, expected: 0xED46_2C80 ^ 0xFF, computed: 0xED46_2C80)
    ) {
      try IDXArray(contentsOf: path)
    }
  }

  /// A gzip file cut in the middle of its deflate stream.
  @Test func cutGzipIsCorrupt() throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gzipFixture("squares.txt.gz"))))
    let path = try makeTemporaryDirectory() + "/cut.gz"
    try Data(bytes[..<400]).write(to: URL(fileURLWithPath: path))
    #expect {
      try IDXArray(contentsOf: path)
    } throws: { error in
      guard case .corruptGzip(_, let reason) = error as? DataError else { return false }
      return reason.contains("ends early")
    }
  }

  /// Block type 3 does not exist: header byte 0b111 (final, type 3) right after a minimal header.
  /// The reason is zlib's message.
  @Test func invalidBlockType() throws {
    let bytes: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0b111] + [UInt8](repeating: 0, count: 8)
    let path = try makeTemporaryDirectory() + "/bad.gz"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    #expect(throws: DataError.corruptGzip(path: path, reason: "invalid block type")) {
      try IDXArray(contentsOf: path)
    }
  }
}

@Suite struct InflateTests {
  /// A 17 KB text compressed with dynamic Huffman blocks and long back-references decodes exactly.
  @Test func dynamicHuffmanBlocks() throws {
    let path = try gzipFixture("squares.txt.gz")
    let bytes = try readFileBytes(path, hint: "")
    let expected = (0..<4000).map { "\($0 * $0 % 1000) " }.joined()
    #expect(String(decoding: bytes, as: UTF8.self) == expected)
  }

  /// The standard CRC-32 check value: crc32("123456789") = 0xCBF43926.
  @Test func crc32CheckValue() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
  }

  /// Two gzip members back to back decode to their concatenation (RFC 1952 §2.2).
  @Test func concatenatedMembers() throws {
    let member = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gzipFixture("labels.idx1.gz"))))
    let decoded = try Gzip.decompress(member + member, path: "twice.gz")
    let single = try Gzip.decompress(member, path: "once.gz")
    #expect(decoded == single + single)
    #expect(single == [0, 0, 8, 1, 0, 0, 0, 5, 3, 1, 4, 1, 5])
  }
}
