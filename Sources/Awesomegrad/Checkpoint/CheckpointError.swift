/// What is wrong with a checkpoint file, or why one could not be written.
///
/// Every case names the file; the cases about one tensor name it too. ``description`` is one line
/// (names are escaped), so a tool can print it as the whole error report. The reader reports the
/// first problem in the order of ``SafeTensorsFile/init(bytes:path:)``'s validation.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file does not exist or cannot be opened or read.
  case unreadable(path: String, reason: String)
  /// The file is shorter than the 8-byte header length.
  case headerTooSmall(path: String, fileSize: Int)
  /// The header length is above the format's limit of 100,000,000 bytes.
  case headerTooLarge(path: String, length: UInt64)
  /// The header length runs past the end of the file.
  case headerPastEnd(path: String, length: UInt64, fileSize: Int)
  /// The header is not valid UTF-8.
  case headerNotUTF8(path: String)
  /// The header is not JSON (`reason` gives the byte offset inside the header).
  case headerNotJSON(path: String, reason: String)
  /// The header is JSON but not an object (`found` is what it is: "array", "string", ...).
  case headerNotObject(path: String, found: String)
  /// `__metadata__` is not an object whose values are all strings.
  case invalidMetadata(path: String, reason: String)
  /// A tensor's entry is not an object with `dtype`, `shape` and `data_offsets` of the right types.
  case invalidEntry(path: String, tensor: String, reason: String)
  /// Two entries have the same name.
  case duplicateTensor(path: String, tensor: String)
  /// A dtype this library does not know (see ``SafeTensorsDType``).
  case unknownDType(path: String, tensor: String, dtype: String)
  /// A dimension below zero (`dimension` is the text of the number in the header).
  case negativeDimension(path: String, tensor: String, dimension: String)
  /// The shape's element count, or its byte size, does not fit in an `Int`.
  case shapeOverflow(path: String, tensor: String, shape: String)
  /// `data_offsets` = [begin, end] with begin > end.
  case offsetsReversed(path: String, tensor: String, begin: Int, end: Int)
  /// end − begin differs from the element count × the dtype's size.
  case sizeMismatch(
    path: String, tensor: String, dtype: String, shape: [Int], expectedBytes: Int, actualBytes: Int)
  /// A tensor begins after the previous one ends, leaving bytes that no tensor covers.
  case offsetsGap(path: String, tensor: String, begin: Int, previousEnd: Int)
  /// A tensor begins before the previous one (`other`) ends: they share bytes.
  case offsetsOverlap(path: String, tensor: String, other: String, begin: Int, previousEnd: Int)
  /// The data section is shorter than the last tensor's end offset.
  case bytesMissing(path: String, expected: Int, actual: Int)
  /// Bytes follow the last tensor's end offset.
  case bytesLeftOver(path: String, count: Int)
  /// No tensor of that name is in the file.
  case tensorNotFound(path: String, tensor: String)
  /// The tensor's dtype cannot be read as what was asked (`wanted`: "a float", "an integer", "BOOL").
  case wrongDType(path: String, tensor: String, dtype: String, wanted: String)
  /// A BOOL element that is neither 0 nor 1.
  case invalidBool(path: String, tensor: String, index: Int, byte: UInt8)
  /// The file could not be written (`reason` says why); nothing was put in its place.
  case unwritable(path: String, reason: String)

  /// One line: the file, the tensor when there is one, what is wrong and, where it helps, what to do.
  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      "\(path): cannot read the file: \(reason)"
    case .headerTooSmall(let path, let size):
      "\(path): header too small: the file has \(size) bytes, fewer than the 8-byte header length; "
        + "is this a safetensors file?"
    case .headerTooLarge(let path, let length):
      "\(path): header too large: the header length is \(length) bytes, above the limit of 100000000; "
        + "the file is damaged or not safetensors"
    case .headerPastEnd(let path, let length, let size):
      "\(path): header length \(length) runs past the end of the \(size)-byte file; the file is truncated"
    case .headerNotUTF8(let path):
      "\(path): the header is not valid UTF-8"
    case .headerNotJSON(let path, let reason):
      "\(path): the header is not JSON: \(reason)"
    case .headerNotObject(let path, let found):
      "\(path): the header is a JSON \(found), not an object"
    case .invalidMetadata(let path, let reason):
      "\(path): invalid __metadata__: \(reason)"
    case .invalidEntry(let path, let tensor, let reason):
      "\(path): tensor \(quoted(tensor)): \(reason)"
    case .duplicateTensor(let path, let tensor):
      "\(path): tensor \(quoted(tensor)) appears twice in the header"
    case .unknownDType(let path, let tensor, let dtype):
      "\(path): tensor \(quoted(tensor)): unknown dtype \(quoted(dtype)); known: "
        + SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
    case .negativeDimension(let path, let tensor, let dimension):
      "\(path): tensor \(quoted(tensor)): negative dimension \(dimension) in its shape"
    case .shapeOverflow(let path, let tensor, let shape):
      "\(path): tensor \(quoted(tensor)): shape \(shape) overflows: its size does not fit in 64 bits"
    case .offsetsReversed(let path, let tensor, let begin, let end):
      "\(path): tensor \(quoted(tensor)): data_offsets [\(begin), \(end)] are reversed (begin > end)"
    case .sizeMismatch(let path, let tensor, let dtype, let shape, let expected, let actual):
      "\(path): tensor \(quoted(tensor)): \(dtype) \(shape) needs \(expected) bytes, "
        + "but its data_offsets span \(actual)"
    case .offsetsGap(let path, let tensor, let begin, let previousEnd):
      "\(path): tensor \(quoted(tensor)) begins at data byte \(begin), but the previous tensor ends at "
        + "\(previousEnd): bytes \(previousEnd)..<\(begin) belong to no tensor"
    case .offsetsOverlap(let path, let tensor, let other, let begin, let previousEnd):
      "\(path): tensor \(quoted(tensor)) begins at data byte \(begin), inside tensor \(quoted(other)), "
        + "which ends at \(previousEnd): the two overlap"
    case .bytesMissing(let path, let expected, let actual):
      "\(path): the data is truncated: the tensors need \(expected) bytes, the file has \(actual)"
    case .bytesLeftOver(let path, let count):
      "\(path): \(count) bytes after the last tensor belong to no tensor"
    case .tensorNotFound(let path, let tensor):
      "\(path): no tensor named \(quoted(tensor))"
    case .wrongDType(let path, let tensor, let dtype, let wanted):
      "\(path): tensor \(quoted(tensor)) is \(dtype), which cannot be read as \(wanted)"
    case .invalidBool(let path, let tensor, let index, let byte):
      "\(path): tensor \(quoted(tensor)): BOOL element \(index) is the byte \(byte), neither 0 nor 1"
    case .unwritable(let path, let reason):
      "\(path): cannot write the checkpoint: \(reason)"
    }
  }
}

/// `text` in double quotes, with quotes, backslashes and control characters escaped, so a name
/// read from a file can never break a one-line message.
func quoted(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _
    where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}"
      || scalar == "\u{2029}":
      out += "\\u{" + String(scalar.value, radix: 16) + "}"
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}
