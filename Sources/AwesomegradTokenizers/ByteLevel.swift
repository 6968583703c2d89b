/// GPT-2's `bytes_to_unicode`: a printable stand-in character for every byte, so that a byte
/// string can be written (and merged) as text.
///
/// The printable bytes `!`…`~` (0x21–0x7E), `¡`…`¬` (0xA1–0xAC) and `®`…`ÿ` (0xAE–0xFF) stand for
/// themselves; the other 68 bytes (space, control bytes, 0x7F–0xA0, 0xAD) take U+0100, U+0101, … in
/// byte order, so space (0x20) is `Ġ` (U+0120) and newline (0x0A) is `Ċ` (U+010A).
enum ByteLevel {
  /// The stand-in of each byte, indexed by the byte.
  static let characterOfByte: [Unicode.Scalar] = {
    var next: UInt32 = 0x100
    return (0...255).map { byte -> Unicode.Scalar in
      if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
        return Unicode.Scalar(UInt8(byte))
      }
      defer { next += 1 }
      return Unicode.Scalar(next)!
    }
  }()

  /// The byte each stand-in character means: the inverse of ``characterOfByte``.
  static let byteOfCharacter: [Unicode.Scalar: UInt8] = Dictionary(
    uniqueKeysWithValues: characterOfByte.enumerated().map { ($0.element, UInt8($0.offset)) })

  /// The text of `bytes` written with stand-ins, one character per byte.
  static func text<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> String {
    var text = String.UnicodeScalarView()
    for byte in bytes { text.append(characterOfByte[Int(byte)]) }
    return String(text)
  }

  /// The bytes a token's text stands for, as the `tokenizers` ByteLevel decoder reads it: every
  /// character through ``byteOfCharacter``, or, when some character is not a stand-in (an added
  /// token such as `<|endoftext|>` is, one like `<s> ` is not), the token's own UTF-8 bytes.
  static func bytes(ofToken token: String) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(token.unicodeScalars.count)
    for scalar in token.unicodeScalars {
      guard let byte = byteOfCharacter[scalar] else { return Array(token.utf8) }
      bytes.append(byte)
    }
    return bytes
  }
}
