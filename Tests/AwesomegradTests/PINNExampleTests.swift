import Foundation
import TestSupport
import Testing

/// `pinn` (Examples/pinn) runs a few steps and prints the JSON keys of the interface list, and writes
/// its heat map.
@Suite struct PINNExampleTests {
  @Test func aShortRunPrintsItsJSONAndPicture() throws {
    let pinn = try #require(ExampleProcess.executable("pinn"), "pinn is not built next to the tests")
    let folder = try ExampleProcess.scratch("pinn")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = try ExampleProcess.run(
      pinn, ["--steps", "3", "--seed", "1", "--threads", "1", "--json", "--svg", folder + "/pinn.svg"],
      in: folder, label: "pinn", deadline: 120)
    #expect(run.process.terminationStatus == 0, "\(run.errors)")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.output)")
    #expect(Set(object.keys) == ["steps", "relative_l2_error", "final_loss", "ms_per_step"])
    #expect(object["steps"] as? Int == 3)
    let error = try #require(object["relative_l2_error"] as? Double)
    #expect(error > 0 && error.isFinite)
    let svg = try String(contentsOfFile: folder + "/pinn.svg", encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
  }
}
