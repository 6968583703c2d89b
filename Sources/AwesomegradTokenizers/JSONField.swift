import Foundation

/// A value read by `JSONSerialization`, with the dotted path it was reached by (`model.merges[3]`),
/// so that every type error names the file and the field. Shared by the tokenizer reader and the
/// model configuration reader.
public struct JSONField {
  /// The file the value came from, for errors.
  public let file: String
  /// The dotted path of the value inside the file; empty for the whole document.
  public let path: String
  /// What `JSONSerialization` produced: `[String: Any]`, `[Any]`, `String`, `NSNumber` or `NSNull`.
  public let value: Any

  /// The document in `data` (a JSON object or array), read with `JSONSerialization`.
  ///
  /// - Throws: ``FileFormatError/malformed(path:reason:)`` when `data` is not JSON.
  public init(parsing data: Data, file: String) throws(FileFormatError) {
    do {
      value = try JSONSerialization.jsonObject(with: data, options: [])
    } catch {
      throw .malformed(path: file, reason: "not JSON: \((error as NSError).localizedDescription)")
    }
    self.file = file
    path = ""
  }

  init(file: String, path: String, value: Any) {
    self.file = file
    self.path = path
    self.value = value
  }

  /// The field's name as errors print it.
  public var fieldName: String { path.isEmpty ? "the document" : path }

  /// The error for this field: `reason` says what is wrong.
  public func invalid(_ reason: String) -> FileFormatError {
    .invalidField(path: file, field: fieldName, reason: reason)
  }

  /// Whether the value is JSON `null`.
  public var isNull: Bool { value is NSNull }

  /// What kind of JSON value this is, for messages.
  public var kind: String {
    switch value {
    case is NSNull: "null"
    case is String: "a string"
    case is [Any]: "an array"
    case is [String: Any]: "an object"
    case let number as NSNumber: isBoolean(number) ? "a boolean" : "a number"
    default: "an unknown value"
    }
  }

  /// The member `key` of this object, or nil when it is absent (a JSON null is returned as a field).
  public func member(_ key: String) throws(FileFormatError) -> JSONField? {
    guard let object = value as? [String: Any] else { throw invalid("expected an object, found \(kind)") }
    return object[key].map { JSONField(file: file, path: path.isEmpty ? key : path + "." + key, value: $0) }
  }

  /// The member `key`, which must be present.
  public func required(_ key: String) throws(FileFormatError) -> JSONField {
    guard let field = try member(key) else {
      throw .missingField(path: file, field: path.isEmpty ? key : path + "." + key)
    }
    return field
  }

  /// The member `key` unless it is absent or null.
  public func optional(_ key: String) throws(FileFormatError) -> JSONField? {
    guard let field = try member(key), !field.isNull else { return nil }
    return field
  }

  /// The object's members, sorted by key (so errors are reported in a stable order).
  public func members() throws(FileFormatError) -> [(key: String, field: JSONField)] {
    guard let object = value as? [String: Any] else { throw invalid("expected an object, found \(kind)") }
    return object.keys.sorted().map { key in
      (key, JSONField(file: file, path: path.isEmpty ? key : path + "." + key, value: object[key]!))
    }
  }

  /// The array's elements.
  public func elements() throws(FileFormatError) -> [JSONField] {
    guard let array = value as? [Any] else { throw invalid("expected an array, found \(kind)") }
    return array.enumerated().map { JSONField(file: file, path: "\(path)[\($0.offset)]", value: $0.element) }
  }

  /// The string.
  public func string() throws(FileFormatError) -> String {
    guard let text = value as? String else { throw invalid("expected a string, found \(kind)") }
    return text
  }

  /// The boolean.
  public func bool() throws(FileFormatError) -> Bool {
    guard let number = value as? NSNumber, isBoolean(number) else {
      throw invalid("expected true or false, found \(kind)")
    }
    return number.boolValue
  }

  /// The integer, which must be whole and fit in an `Int` (JSON's `3.0` counts as 3).
  public func integer() throws(FileFormatError) -> Int {
    guard let number = value as? NSNumber, !isBoolean(number) else {
      throw invalid("expected an integer, found \(kind)")
    }
    let double = number.doubleValue
    guard double.isFinite, double == double.rounded(), Swift.abs(double) < 9.0e15 else {
      throw invalid("expected an integer, found \(number)")
    }
    return Int(double)
  }

  /// The number as a `Double` (an integer or a fraction).
  public func number() throws(FileFormatError) -> Double {
    guard let number = value as? NSNumber, !isBoolean(number) else {
      throw invalid("expected a number, found \(kind)")
    }
    return number.doubleValue
  }
}

/// Whether `number` came from JSON `true`/`false` rather than a number: `JSONSerialization` makes
/// booleans with the Objective-C type `c` (char) on every platform, and never a number of that type.
private func isBoolean(_ number: NSNumber) -> Bool {
  String(cString: number.objCType) == "c"
}
