/// What went wrong while reading a data file. Each message names the file, says what was wrong and,
/// where there is one, what to do about it.
public enum DataError: Error, Equatable, CustomStringConvertible {
  /// The file does not exist. `hint` says how to get it.
  case fileNotFound(path: String, hint: String)
  /// The file ends before the data its header announces.
  case truncated(path: String, expectedBytes: Int, actualBytes: Int)
  /// The file does not start with the expected magic number: it is not the format it was read as.
  case wrongMagicNumber(path: String, expected: UInt32, found: UInt32)
  /// The gzip container or the deflate stream inside it is malformed.
  case corruptGzip(path: String, reason: String)
  /// The gzip file decompresses to more than `limit` bytes (the cap the reader was given).
  case decompressedTooLarge(path: String, limit: Int)
  /// The decompressed data does not match the CRC-32 or length stored in the gzip trailer.
  case checksumMismatch(path: String, expected: UInt32, computed: UInt32)
  /// A value that is not a finite number, at a 1-based line and column.
  case invalidValue(path: String, line: Int, column: Int, text: String)
  /// The file is well-formed but its contents do not fit together (ragged rows, counts that differ).
  case inconsistent(path: String, reason: String)

  /// What was wrong with the data, and what to do.
  public var description: String {
    switch self {
    case .fileNotFound(let path, let hint):
      "\(path): file not found. \(hint)"
    case .truncated(let path, let expected, let actual):
      "\(path): truncated: expected \(expected) bytes, found \(actual). Download the file again."
    case .wrongMagicNumber(let path, let expected, let found):
      "\(path): wrong magic number 0x\(hex(found)), expected 0x\(hex(expected)); is this the right file?"
    case .corruptGzip(let path, let reason):
      "\(path): corrupt gzip data: \(reason). Download the file again."
    case .decompressedTooLarge(let path, let limit):
      "\(path): decompresses to more than \(limit) bytes, the cap; raise maxDecompressedBytes if the "
        + "file is genuine"
    case .checksumMismatch(let path, let expected, let computed):
      "\(path): gzip CRC-32 mismatch: the trailer says 0x\(hex(expected)), the data gives 0x\(hex(computed)). "
        + "The file is damaged; download it again."
    case .invalidValue(let path, let line, let column, let text):
      "\(path):\(line): column \(column): '\(text)' is not a finite number."
    case .inconsistent(let path, let reason):
      "\(path): \(reason)"
    }
  }
}

private func hex(_ value: UInt32) -> String {
  let digits = String(value, radix: 16, uppercase: true)
  return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
