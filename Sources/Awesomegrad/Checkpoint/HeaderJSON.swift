/// A JSON value (RFC 8259) as the safetensors header holds it.
///
/// The header is parsed by this small strict parser rather than Foundation's, so that the checks
/// do not depend on the platform: numbers keep their text (an integer above 2⁵³ is never rounded
/// through a Double, a negative or fractional dimension is seen as such), object members keep their
/// order and duplicates, and nesting is limited to ``maximumDepth`` levels so a hostile header
/// cannot exhaust the stack.
indirect enum HeaderJSON: Equatable {
  case object([(key: String, value: HeaderJSON)])
  case array([HeaderJSON])
  case string(String)
  /// The number exactly as written (already checked against the JSON grammar).
  case number(String)
  case bool(Bool)
  case null

  /// Nesting limit, the same as serde_json's default (the reference reader's parser).
  static let maximumDepth = 128

  static func == (lhs: HeaderJSON, rhs: HeaderJSON) -> Bool {
    switch (lhs, rhs) {
    case (.object(let a), .object(let b)):
      a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    case (.array(let a), .array(let b)): a == b
    case (.string(let a), .string(let b)): a == b
    case (.number(let a), .number(let b)): a == b
    case (.bool(let a), .bool(let b)): a == b
    case (.null, .null): true
    default: false
    }
  }

  /// What kind of value this is, for messages: "object", "array", "string", "number", "boolean", "null".
  var kind: String {
    switch self {
    case .object: "object"
    case .array: "array"
    case .string: "string"
    case .number: "number"
    case .bool: "boolean"
    case .null: "null"
    }
  }

  /// Why `bytes` are not JSON, at which byte.
  struct SyntaxError: Error {
    let offset: Int
    let reason: String
    var description: String { "\(reason) at header byte \(offset)" }
  }

  /// Parses `bytes`, one JSON value surrounded by optional whitespace.
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> HeaderJSON {
    var parser = Parser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.value(depth: 1)
    parser.skipWhitespace()
    guard parser.position == bytes.count else { throw parser.failure("unexpected text after the JSON value") }
    return value
  }
}

/// The integer a JSON number's text denotes, when it is an integer literal.
enum JSONInteger: Equatable {
  /// A non-negative integer that fits in an `Int`.
  case value(Int)
  /// A non-negative integer larger than `Int.max`.
  case tooLarge
  /// A negative integer (or a negative number in general).
  case negative
  /// A number with a fraction or an exponent.
  case notInteger

  init(text: String) {
    let utf8 = text.utf8
    if utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) {
      self = .notInteger
      return
    }
    if utf8.first == UInt8(ascii: "-") {
      // "-0" is zero; any other negative integer is negative.
      self = utf8.dropFirst().allSatisfy { $0 == UInt8(ascii: "0") } ? .value(0) : .negative
      return
    }
    // The text passed the JSON grammar, so it is all digits here.
    var value = 0
    for byte in utf8 {
      let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(Int(byte &- UInt8(ascii: "0")))
      if overflow1 || overflow2 {
        self = .tooLarge
        return
      }
      value = sum
    }
    self = .value(value)
  }
}

private struct Parser {
  let bytes: UnsafeBufferPointer<UInt8>
  var position = 0

  init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  func failure(_ reason: String) -> HeaderJSON.SyntaxError { .init(offset: position, reason: reason) }

  var atEnd: Bool { position >= bytes.count }

  mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  mutating func value(depth: Int) throws(HeaderJSON.SyntaxError) -> HeaderJSON {
    guard !atEnd else { throw failure("the header ends where a value should be") }
    switch bytes[position] {
    case UInt8(ascii: "{"):
      guard depth <= HeaderJSON.maximumDepth else {
        throw failure("nested deeper than \(HeaderJSON.maximumDepth) levels")
      }
      return try object(depth: depth)
    case UInt8(ascii: "["):
      guard depth <= HeaderJSON.maximumDepth else {
        throw failure("nested deeper than \(HeaderJSON.maximumDepth) levels")
      }
      return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
    case UInt8(ascii: "t"):
      try literal("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal("null")
      return .null
    default:
      throw failure("unexpected character \(printable(bytes[position]))")
    }
  }

  mutating func literal(_ word: String) throws(HeaderJSON.SyntaxError) {
    let expected = Array(word.utf8)
    guard bytes.count - position >= expected.count,
      expected.indices.allSatisfy({ bytes[position + $0] == expected[$0] })
    else { throw failure("invalid literal (expected \(word))") }
    position += expected.count
  }

  mutating func object(depth: Int) throws(HeaderJSON.SyntaxError) -> HeaderJSON {
    position += 1  // {
    var members: [(key: String, value: HeaderJSON)] = []
    skipWhitespace()
    if !atEnd && bytes[position] == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard !atEnd else { throw failure("the header ends inside an object") }
      guard bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a member name") }
      let key = try string()
      skipWhitespace()
      guard !atEnd, bytes[position] == UInt8(ascii: ":") else { throw failure("expected ':'") }
      position += 1
      skipWhitespace()
      members.append((key, try value(depth: depth + 1)))
      skipWhitespace()
      guard !atEnd else { throw failure("the header ends inside an object") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] == UInt8(ascii: "}") {
        position += 1
        return .object(members)
      } else {
        throw failure("expected ',' or '}'")
      }
    }
  }

  mutating func array(depth: Int) throws(HeaderJSON.SyntaxError) -> HeaderJSON {
    position += 1  // [
    var elements: [HeaderJSON] = []
    skipWhitespace()
    if !atEnd && bytes[position] == UInt8(ascii: "]") {
      position += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try value(depth: depth + 1))
      skipWhitespace()
      guard !atEnd else { throw failure("the header ends inside an array") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] == UInt8(ascii: "]") {
        position += 1
        return .array(elements)
      } else {
        throw failure("expected ',' or ']'")
      }
    }
  }

  /// A number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  mutating func number() throws(HeaderJSON.SyntaxError) -> String {
    let start = position
    func digits(_ parser: inout Parser) -> Int {
      let from = parser.position
      while !parser.atEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.position]) {
        parser.position += 1
      }
      return parser.position - from
    }
    if bytes[position] == UInt8(ascii: "-") { position += 1 }
    guard !atEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else {
      throw failure("a number needs a digit")
    }
    if bytes[position] == UInt8(ascii: "0") {
      position += 1
    } else {
      _ = digits(&self)
    }
    if !atEnd && bytes[position] == UInt8(ascii: ".") {
      position += 1
      guard digits(&self) > 0 else { throw failure("a fraction needs a digit") }
    }
    if !atEnd && bytes[position] | 0x20 == UInt8(ascii: "e") {
      position += 1
      if !atEnd && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
        position += 1
      }
      guard digits(&self) > 0 else { throw failure("an exponent needs a digit") }
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
  }

  /// A string with its escapes decoded. The header was checked to be UTF-8 before parsing, so
  /// unescaped runs are copied as they are.
  mutating func string() throws(HeaderJSON.SyntaxError) -> String {
    position += 1  // "
    var result = ""
    var runStart = position
    func flush(_ parser: Parser, _ result: inout String, upTo end: Int) {
      if end > runStart {
        result += String(decoding: UnsafeBufferPointer(rebasing: parser.bytes[runStart..<end]), as: UTF8.self)
      }
    }
    while true {
      guard !atEnd else { throw failure("the header ends inside a string") }
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        flush(self, &result, upTo: position)
        position += 1
        return result
      }
      if byte < 0x20 { throw failure("control character \(printable(byte)) inside a string") }
      if byte != UInt8(ascii: "\\") {
        position += 1
        continue
      }
      flush(self, &result, upTo: position)
      position += 1
      guard !atEnd else { throw failure("the header ends inside an escape") }
      let escape = bytes[position]
      position += 1
      switch escape {
      case UInt8(ascii: "\""): result += "\""
      case UInt8(ascii: "\\"): result += "\\"
      case UInt8(ascii: "/"): result += "/"
      case UInt8(ascii: "b"): result += "\u{8}"
      case UInt8(ascii: "f"): result += "\u{C}"
      case UInt8(ascii: "n"): result += "\n"
      case UInt8(ascii: "r"): result += "\r"
      case UInt8(ascii: "t"): result += "\t"
      case UInt8(ascii: "u"):
        let first = try hex4()
        var scalarValue = UInt32(first)
        if (0xD800...0xDBFF).contains(first) {
          // A high surrogate must be followed by an escaped low surrogate.
          guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
            bytes[position + 1] == UInt8(ascii: "u")
          else { throw failure("lone leading surrogate in \\u escape") }
          position += 2
          let second = try hex4()
          guard (0xDC00...0xDFFF).contains(second) else {
            throw failure("invalid low surrogate in \\u escape")
          }
          scalarValue = 0x10000 + (UInt32(first - 0xD800) << 10) + UInt32(second - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(first) {
          throw failure("lone trailing surrogate in \\u escape")
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw failure("invalid \\u escape") }
        result.unicodeScalars.append(scalar)
      default:
        position -= 1
        throw failure("invalid escape \\\(printable(escape))")
      }
      runStart = position
    }
  }

  mutating func hex4() throws(HeaderJSON.SyntaxError) -> UInt16 {
    guard bytes.count - position >= 4 else { throw failure("the header ends inside a \\u escape") }
    var value: UInt16 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: throw failure("invalid hex digit \(printable(byte)) in \\u escape")
      }
      value = value << 4 | UInt16(digit)
      position += 1
    }
    return value
  }
}

/// A byte for a message: the character when printable ASCII, else its hex value.
private func printable(_ byte: UInt8) -> String {
  (0x21...0x7E).contains(byte)
    ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16, uppercase: true)
}

// MARK: - Writing

/// `text` as a JSON string literal: quotes, backslashes and control characters escaped, everything
/// else written as UTF-8 (what serde_json and Python's json with ensure_ascii=False write).
func jsonStringLiteral(_ text: String) -> String {
  if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
    return "\"" + text + "\""
  }
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case "\u{8}": out += "\\b"
    case "\u{C}": out += "\\f"
    case _ where scalar.value < 0x20:
      let hex = String(scalar.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}
