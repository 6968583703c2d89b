import CZlib

/// The doorway to zlib: raw DEFLATE decoding (RFC 1951) and CRC-32. The only file that imports
/// `CZlib`; ``Gzip`` parses the gzip container around it.
enum Zlib {
  /// Why a deflate stream could not be decoded.
  enum Failure: Error, Equatable {
    /// The stream is invalid; `reason` is zlib's message ("invalid block type", ...).
    case corrupt(reason: String)
    /// The input ends before the stream does.
    case endsEarly
    /// The output would exceed `limit` bytes.
    case tooLarge(limit: Int)
  }

  /// Decodes the raw deflate stream that starts at `start` in `input`.
  ///
  /// The output buffer starts at `min(sizeHint, limit, 1032 × input bytes + 64)` — deflate cannot
  /// expand data by more than 1032:1, so a lying size hint cannot make it allocate more than the
  /// input can produce — and doubles as needed, never beyond `limit` + 1 bytes.
  /// - Returns: the decoded bytes and the index of the first input byte after the stream.
  static func inflate(
    _ input: UnsafeBufferPointer<UInt8>, from start: Int, sizeHint: Int, limit: Int
  ) throws(Failure) -> (bytes: [UInt8], end: Int) {
    var stream = z_stream()
    // inflateInit2 is a macro; windowBits −15 means raw deflate with a 32 KiB window.
    guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw .corrupt(reason: "zlib could not start (out of memory?)")
    }
    defer { inflateEnd(&stream) }

    let available = input.count - start
    let bound = available > (Int.max - 64) / 1032 ? Int.max : 1032 * available + 64
    var output = [UInt8](repeating: 0, count: max(0, min(sizeHint, limit, bound)))
    var produced = 0
    var position = start
    while true {
      if produced == output.count {
        guard output.count <= limit else { throw .tooLarge(limit: limit) }
        // Grow to twice the size (at least 64 KiB), and at most to limit + 1 so that going past
        // the limit is seen.
        let grown = min(max(output.count * 2, 1 << 16), limit == Int.max ? Int.max : limit + 1)
        output.append(contentsOf: repeatElement(0, count: grown - output.count))
      }
      let inputChunk = min(input.count - position, Int(UInt32.max))
      let outputChunk = min(output.count - produced, Int(UInt32.max))
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + position })
      stream.avail_in = UInt32(inputChunk)
      let status = output.withUnsafeMutableBufferPointer { out in
        stream.next_out = out.baseAddress! + produced
        stream.avail_out = UInt32(outputChunk)
        return CZlib.inflate(&stream, Z_NO_FLUSH)
      }
      position += inputChunk - Int(stream.avail_in)
      produced += outputChunk - Int(stream.avail_out)
      if produced > limit { throw .tooLarge(limit: limit) }
      switch status {
      case Z_STREAM_END:
        output.removeLast(output.count - produced)
        return (output, position)
      case Z_OK:
        continue
      case Z_BUF_ERROR where position == input.count:
        throw .endsEarly
      case Z_BUF_ERROR:
        continue  // the output was full; the loop grows it
      default:
        let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
        throw .corrupt(reason: reason)
      }
    }
  }

  /// The CRC-32 of gzip, zip and PNG (reflected polynomial 0xEDB88320); `previous`, the CRC of the
  /// bytes before these, continues a running one.
  static func crc32(_ bytes: UnsafeBufferPointer<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
    crc32(UnsafeRawBufferPointer(bytes), continuing: previous)
  }

  /// The CRC-32 of the bytes of any values (a tensor's little-endian elements).
  static func crc32(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
    var crc = UInt(previous)
    var offset = 0
    while offset < bytes.count {
      let chunk = min(bytes.count - offset, Int(UInt32.max))
      crc = CZlib.crc32(crc, bytes.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset, UInt32(chunk))
      offset += chunk
    }
    return UInt32(truncatingIfNeeded: crc)
  }
}
