import Foundation
import Testing

/// The README is the front door: every relative link in it must lead somewhere.
///
/// A link or image `[text](target)` without a URL scheme names a file or folder relative to the
/// repository root, and a `#fragment` names one of the README's own headings (GitHub's anchors:
/// lower case, punctuation dropped, spaces as hyphens). Code blocks and code spans hold no links.
/// `scripts/check-links` (run by `make docs`) is the same check with a report.
@Suite struct ReadmeLinkTests {
  /// The repository root: this file is `Tests/AwesomegradTests/ReadmeLinkTests.swift`.
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The lines outside fenced code blocks, with code spans blanked.
  static func prose(_ text: String) -> [String] {
    var fenced = false
    return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
      if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
        fenced.toggle()
        return ""
      }
      return fenced ? "" : String(line).replacing(/`[^`]*`/, with: "``")
    }
  }

  static func anchor(ofHeading heading: Substring) -> String {
    heading.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == " " }
      .replacing(" ", with: "-")
  }

  @Test func everyRelativeLinkResolves() throws {
    let readme = Self.root.appendingPathComponent("README.md")
    let lines = Self.prose(try String(contentsOf: readme, encoding: .utf8))
    let anchors = Set(
      lines.compactMap { line in
        line.firstMatch(of: /^#{1,6}\s+(.*)$/).map { Self.anchor(ofHeading: $0.1) }
      })
    var checked = 0
    for (number, line) in lines.enumerated() {
      for match in line.matches(of: /!?\[[^\]]*\]\(([^)\s]+)\)/) {
        let target = String(match.1)
        if target.firstMatch(of: /^[a-z][a-z0-9+.-]*:/) != nil { continue }  // https:, mailto:
        checked += 1
        let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        if !path.isEmpty {
          #expect(
            FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path),
            "README.md:\(number + 1): \(target) names no file or folder")
        } else if parts.count == 2 {
          #expect(anchors.contains(String(parts[1])), "README.md:\(number + 1): no heading \(target)")
        }
      }
    }
    #expect(checked >= 10, "the README links into the articles; found only \(checked) relative links")
  }

  /// No merge left its conflict markers in the documents (a merge once committed them into the
  /// README's feature table, and every link still resolved): lines that start with seven `<`, `=`
  /// or `>` and, for `<` and `>`, a space, in the README, DESIGN.md and every DocC article.
  @Test func noConflictMarkersInTheDocuments() throws {
    var documents = [Self.root.appendingPathComponent("README.md"), Self.root.appendingPathComponent("docs/DESIGN.md")]
    let sources = Self.root.appendingPathComponent("Sources")
    for case let url as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
    where url.pathExtension == "md" {
      documents.append(url)
    }
    #expect(documents.count > 10)
    for document in documents {
      let lines = try String(contentsOf: document, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
      for (number, line) in lines.enumerated()
      where line.hasPrefix("<<<<<<< ") || line.hasPrefix(">>>>>>> ") || line == "======="
      {
        Issue.record("\(document.path.dropFirst(Self.root.path.count + 1)):\(number + 1): a merge-conflict marker")
      }
    }
  }
}
