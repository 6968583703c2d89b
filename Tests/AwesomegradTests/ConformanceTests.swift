import Foundation
import Testing
import TorchConformance

/// The conformance runner over the PyTorch fixtures: every implemented op matches PyTorch in Double
/// (1e-9) and Float (1e-4); exactly the ops not written yet fail.
@Suite struct ConformanceTests {
  /// Every case of the v1 fixture is implemented.
  static let unsupported: Set<String> = []

  static func fixture(_ name: String) throws -> Fixture {
    let url = try #require(
      Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    return try Fixture(contentsOf: url)
  }

  @Test(arguments: ["torch_ops_seed0", "torch_ops_seed1"])
  func onlyTheUnwrittenOpsFail(_ name: String) throws {
    let fixture = try Self.fixture(name)
    let results = ConformanceRunner().run(fixture)
    #expect(results.count == 64)
    let failed = Set(results.filter { !$0.passed }.map(\.name))
    #expect(failed == Self.unsupported, "\(results.filter { !$0.passed })")
    for result in results where Self.unsupported.contains(result.name) {
      #expect(result.message?.hasPrefix("unsupported op ") == true, "\(result)")
    }
    for result in results where result.passed {
      #expect(result.worstDeviation <= 1e-4)
    }
  }

  /// A wrong reference value is caught and reported with where it is.
  @Test func aWrongReferenceFails() throws {
    var testCase = try #require(try Self.fixture("torch_ops_seed0").cases.first { $0.name == "tanh" })
    #expect(ConformanceRunner().run(testCase).passed)
    testCase.output.data[5] += 1e-6
    let result = ConformanceRunner().run(testCase)
    #expect(!result.passed)
    #expect(result.dtype == "float64")
    #expect(result.message?.contains("output[5]") == true, "\(result)")

    var gradientCase = try #require(
      try Self.fixture("torch_ops_seed0").cases.first { $0.name == "matmul_vec" })
    gradientCase.grads![1]!.data[0] *= 1.001
    let gradientResult = ConformanceRunner().run(gradientCase)
    #expect(!gradientResult.passed)
    #expect(gradientResult.message?.contains("grad[1][0]") == true, "\(gradientResult)")
  }
}
