/// A table of numbers read from a CSV file: a feature matrix and, optionally, one label column.
///
/// Every field must be a finite number (surrounding spaces are ignored); blank lines are skipped.
/// A `NaN`, `inf` or non-numeric field is reported with its line and column.
public struct CSVTable: Sendable {
  /// The column names, when the file has a header line.
  public var header: [String]?
  /// The feature values, row-major, `rowCount × featureCount` (the label column removed).
  public var features: [Double]
  /// The values of the label column, one per row; empty when no label column was chosen.
  public var labels: [Double]
  /// The number of data rows.
  public var rowCount: Int
  /// The number of feature columns.
  public var featureCount: Int

  /// Which column holds the labels.
  public enum LabelColumn: Sendable, Equatable {
    /// The column at this 0-based index; negative counts from the end (−1 is the last).
    case index(Int)
    /// The column with this name in the header.
    case name(String)
  }

  /// Reads a CSV file of numbers.
  /// - Parameters:
  ///   - path: the file to read.
  ///   - hasHeader: whether the first line names the columns.
  ///   - labelColumn: the column to take out as labels, or nil for features only.
  ///   - separator: the field separator.
  ///   - maxDecompressedBytes: the cap on the decompressed size of a gzip file (default 1 GiB).
  public init(
    contentsOf path: String, hasHeader: Bool = false, labelColumn: LabelColumn? = nil,
    separator: Character = ",", maxDecompressedBytes: Int = 1 << 30
  ) throws(DataError) {
    try self.init(
      decoded: readFileBytes(path, hint: "Check the path.", maxDecompressedBytes: maxDecompressedBytes),
      path: path,
      hasHeader: hasHeader, labelColumn: labelColumn, separator: separator)
  }

  /// Parses the (decompressed) contents `bytes` of a CSV file; `path` names it in errors.
  init(
    decoded bytes: [UInt8], path: String, hasHeader: Bool, labelColumn: LabelColumn?, separator: Character
  ) throws(DataError) {
    let text = String(decoding: bytes, as: UTF8.self)
    // "\r\n" is one Character, and a newline, so this splits Unix and Windows line ends alike.
    var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().map {
      (number: $0.offset + 1, text: $0.element)
    }
    lines.removeAll { $0.text.allSatisfy(\.isWhitespace) }
    guard !lines.isEmpty else { throw .inconsistent(path: path, reason: "the file has no rows") }

    var header: [String]? = nil
    if hasHeader {
      header = lines.removeFirst().text.split(separator: separator, omittingEmptySubsequences: false).map {
        $0.trimmingWhitespace()
      }
    }
    let firstWidth =
      header?.count ?? lines.first!.text.split(separator: separator, omittingEmptySubsequences: false).count

    var labelIndex: Int? = nil
    switch labelColumn {
    case nil: break
    case .index(let i):
      let resolved = i < 0 ? i + firstWidth : i
      guard (0..<firstWidth).contains(resolved) else {
        throw .inconsistent(path: path, reason: "label column \(i) is outside the \(firstWidth) columns")
      }
      labelIndex = resolved
    case .name(let name):
      guard let header else {
        throw .inconsistent(path: path, reason: "label column '\(name)' needs hasHeader: true")
      }
      guard let i = header.firstIndex(of: name) else {
        throw .inconsistent(path: path, reason: "no column named '\(name)'; the header has \(header)")
      }
      labelIndex = i
    }

    var features: [Double] = []
    var labels: [Double] = []
    for (number, line) in lines {
      let fields = line.split(separator: separator, omittingEmptySubsequences: false)
      guard fields.count == firstWidth else {
        throw .inconsistent(
          path: path, reason: "line \(number) has \(fields.count) fields, expected \(firstWidth)")
      }
      for (column, field) in fields.enumerated() {
        let trimmed = field.trimmingWhitespace()
        guard let value = Double(trimmed), value.isFinite else {
          throw .invalidValue(path: path, line: number, column: column + 1, text: trimmed)
        }
        if column == labelIndex { labels.append(value) } else { features.append(value) }
      }
    }
    self.header = header
    self.features = features
    self.labels = labels
    rowCount = lines.count
    featureCount = firstWidth - (labelIndex == nil ? 0 : 1)
  }

  /// The features as a `[rowCount, featureCount]` tensor.
  public func featureTensor<Scalar: TensorScalar>(_: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    Tensor(features.map { Scalar($0) }, shape: [rowCount, featureCount])
  }
}

extension Substring {
  fileprivate func trimmingWhitespace() -> String {
    String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
  }
}
