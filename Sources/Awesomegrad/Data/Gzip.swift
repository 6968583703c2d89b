/// Reading gzip files (RFC 1952): a header, a raw deflate stream (decoded by zlib, see ``Zlib``),
/// and a trailer with the CRC-32 and the length (mod 2³²) of the decompressed data. Several members
/// may be concatenated.
enum Gzip {
  /// The default cap on the decompressed size of one file: 1 GiB.
  static let defaultMaxDecompressedBytes = 1 << 30

  /// Whether `bytes` start with the gzip magic number 1f 8b.
  static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

  /// The decompressed contents of the gzip file `bytes` (read from `path`, named in errors).
  /// - Parameter maxDecompressedBytes: the most bytes all members together may decompress to;
  ///   more is ``DataError/decompressedTooLarge(path:limit:)``.
  static func decompress(
    _ bytes: [UInt8], path: String, maxDecompressedBytes: Int = defaultMaxDecompressedBytes
  ) throws(DataError) -> [UInt8] {
    try bytes.withUnsafeBufferPointer { (input) throws(DataError) -> [UInt8] in
      var output: [UInt8] = []
      var start = 0
      repeat {
        let member = try decompressMember(
          input, at: start, path: path, limit: maxDecompressedBytes - output.count)
        if output.isEmpty { output = member.bytes } else { output += member.bytes }
        start = member.end
      } while input.count - start >= 2 && input[start] == 0x1F && input[start + 1] == 0x8B
      return output
    }
  }

  /// One gzip member starting at `start`: its bytes and the index just after its trailer.
  private static func decompressMember(
    _ input: UnsafeBufferPointer<UInt8>, at start: Int, path: String, limit: Int
  ) throws(DataError) -> (bytes: [UInt8], end: Int) {
    func corrupt(_ reason: String) -> DataError { .corruptGzip(path: path, reason: reason) }
    func littleEndian32(_ i: Int) -> UInt32 {
      UInt32(input[i]) | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2]) << 16 | UInt32(input[i + 3]) << 24
    }
    // Header: ID1 ID2 CM FLG MTIME(4) XFL OS, then optional fields announced by FLG.
    guard input.count - start >= 18 else { throw corrupt("the file is too short to be gzip") }
    guard input[start] == 0x1F, input[start + 1] == 0x8B else {
      throw .wrongMagicNumber(
        path: path, expected: 0x1F8B, found: UInt32(input[start]) << 8 | UInt32(input[start + 1]))
    }
    guard input[start + 2] == 8 else {
      throw corrupt("compression method \(input[start + 2]) is not deflate (8)")
    }
    let flags = input[start + 3]
    var position = start + 10
    if flags & 0x04 != 0 {  // FEXTRA: a 2-byte length and that many bytes
      guard input.count - position >= 2 else { throw corrupt("the header ends early") }
      position += 2 + (Int(input[position]) | Int(input[position + 1]) << 8)
    }
    for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
      while position < input.count && input[position] != 0 { position += 1 }
      position += 1
    }
    if flags & 0x02 != 0 { position += 2 }  // FHCRC
    guard position < input.count else { throw corrupt("the header ends early") }

    // The last 4 bytes of the file are the last member's ISIZE: only a hint for the output buffer
    // (the usual file has one member), which Zlib.inflate bounds by what the input can produce.
    let sizeHint = Int(littleEndian32(input.count - 4))
    let decoded: (bytes: [UInt8], end: Int)
    do {
      decoded = try Zlib.inflate(input, from: position, sizeHint: sizeHint, limit: limit)
    } catch {
      switch error {
      case .corrupt(let reason): throw corrupt(reason)
      case .endsEarly: throw corrupt("the deflate stream ends early; the file is truncated")
      case .tooLarge: throw .decompressedTooLarge(path: path, limit: limit)
      }
    }
    guard input.count - decoded.end >= 8 else {
      throw .truncated(path: path, expectedBytes: decoded.end + 8, actualBytes: input.count)
    }
    let expectedCRC = littleEndian32(decoded.end), expectedSize = littleEndian32(decoded.end + 4)
    let computedCRC = CRC32.checksum(decoded.bytes)
    if computedCRC != expectedCRC {
      throw .checksumMismatch(path: path, expected: expectedCRC, computed: computedCRC)
    }
    if UInt32(truncatingIfNeeded: decoded.bytes.count) != expectedSize {
      throw corrupt("the trailer says \(expectedSize) bytes (mod 2³²), the data has \(decoded.bytes.count)")
    }
    return (decoded.bytes, decoded.end + 8)
  }
}

/// The CRC-32 of gzip, zip and PNG (reflected polynomial 0xEDB88320), computed by zlib.
enum CRC32 {
  static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { Zlib.crc32($0) }
  }
}
