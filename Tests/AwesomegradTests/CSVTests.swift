import Foundation
import Testing

@testable import Awesomegrad

@Suite struct CSVTests {
  func write(_ text: String) throws -> String {
    let path = try makeTemporaryDirectory() + "/data.csv"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Header, label chosen by name, spaces around fields, CRLF line ends and a trailing blank line.
  @Test func headerAndNamedLabel() throws {
    let path = try write("a, b ,label\r\n1,2,0\r\n3.5,-4e-1,1\r\n\n")
    let table = try CSVTable(contentsOf: path, hasHeader: true, labelColumn: .name("label"))
    #expect(table.header == ["a", "b", "label"])
    #expect(table.rowCount == 2 && table.featureCount == 2)
    #expect(table.features == [1, 2, 3.5, -0.4])
    #expect(table.labels == [0, 1])
    #expect(table.featureTensor(Double.self).shape == [2, 2])
  }

  /// No header; the label is the first column, or the last by −1.
  @Test func labelByIndex() throws {
    let path = try write("7,1,2\n8,3,4\n")
    let first = try CSVTable(contentsOf: path, labelColumn: .index(0))
    #expect(first.labels == [7, 8] && first.features == [1, 2, 3, 4])
    let last = try CSVTable(contentsOf: path, labelColumn: .index(-1))
    #expect(last.labels == [2, 4] && last.features == [7, 1, 8, 3])
    let none = try CSVTable(contentsOf: path)
    #expect(none.labels.isEmpty && none.featureCount == 3)
  }

  /// NaN on line 3 (after the header), column 2.
  @Test func nanIsRejectedWithItsLine() throws {
    let path = try write("x,y\n1,2\n3,NaN\n")
    #expect(throws: DataError.invalidValue(path: path, line: 3, column: 2, text: "NaN")) {
      try CSVTable(contentsOf: path, hasHeader: true)
    }
  }

  @Test func nonNumericIsRejected() throws {
    let path = try write("1,2\n3,four\n")
    #expect(throws: DataError.invalidValue(path: path, line: 2, column: 2, text: "four")) {
      try CSVTable(contentsOf: path)
    }
    let message = DataError.invalidValue(path: "f.csv", line: 2, column: 2, text: "four").description
    #expect(message == "f.csv:2: column 2: 'four' is not a finite number.")
  }

  @Test func raggedRowsAreRejected() throws {
    let path = try write("1,2\n3\n")
    #expect(throws: DataError.inconsistent(path: path, reason: "line 2 has 1 fields, expected 2")) {
      try CSVTable(contentsOf: path)
    }
  }

  @Test func unknownLabelName() throws {
    let path = try write("a,b\n1,2\n")
    #expect(throws: DataError.self) {
      try CSVTable(contentsOf: path, hasHeader: true, labelColumn: .name("c"))
    }
  }

  @Test func missingFile() throws {
    let path = try makeTemporaryDirectory() + "/absent.csv"
    #expect(throws: DataError.fileNotFound(path: path, hint: "Check the path.")) {
      try CSVTable(contentsOf: path)
    }
  }
}
