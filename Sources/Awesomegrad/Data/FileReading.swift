import Foundation

/// The bytes of the file at `path`, decompressed when it is gzip (by content, not by name).
/// - Parameters:
///   - hint: what to tell the user when the file is missing.
///   - maxDecompressedBytes: the cap on the decompressed size of a gzip file.
func readFileBytes(
  _ path: String, hint: String, maxDecompressedBytes: Int = Gzip.defaultMaxDecompressedBytes
) throws(DataError) -> [UInt8] {
  guard FileManager.default.fileExists(atPath: path), let data = FileManager.default.contents(atPath: path)
  else {
    throw .fileNotFound(path: path, hint: hint)
  }
  let bytes = [UInt8](data)
  return Gzip.isGzip(bytes)
    ? try Gzip.decompress(bytes, path: path, maxDecompressedBytes: maxDecompressedBytes) : bytes
}

/// File-existence checks without importing Foundation into every data file.
enum FileManagerShim {
  static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}
