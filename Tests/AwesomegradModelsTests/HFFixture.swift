import Foundation

/// The Hugging Face fixtures (`Fixtures/hf`, see its README.md): paths and `expected.json`.
enum HFFixture {
  /// The folder `Fixtures/hf` inside the test bundle.
  static let directory: String = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/hf").path

  /// `path` inside the fixture folder.
  static func path(_ relative: String) -> String { directory + "/" + relative }

  /// `expected.json`, parsed once.
  nonisolated(unsafe) static let expected: [String: Any] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: path("expected.json")))
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }()

  /// `expected.json` → `tokenizer` → `texts`: name, text, ids, decoded, decoded_skip_special.
  static var texts: [[String: Any]] { (expected["tokenizer"] as! [String: Any])["texts"] as! [[String: Any]] }

  /// `expected.json` → `models` → `name`.
  static func model(_ name: String) -> [String: Any] { (expected["models"] as! [String: Any])[name] as! [String: Any] }

  /// `expected.json` → `variants` → `name`.
  static func variant(_ name: String) -> [String: Any] {
    (expected["variants"] as! [String: Any])[name] as! [String: Any]
  }
}

/// A JSON array of numbers as Ints.
func ints(_ value: Any?) -> [Int] { (value as! [Any]).map { ($0 as! NSNumber).intValue } }
/// A JSON array of numbers as Floats (each is a float32 written exactly).
func floats(_ value: Any?) -> [Float] { (value as! [Any]).map { ($0 as! NSNumber).floatValue } }
