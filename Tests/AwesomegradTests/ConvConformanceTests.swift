import Foundation
import Testing
import TorchConformance

/// The convolutional-network cases of the PyTorch fixtures pass in Double (1e-9) and Float (1e-4):
/// conv2d, conv1d, pooling and batch norm from format v2, the four v1 cases, and the whole geometry
/// fixture.
@Suite struct ConvConformanceTests {
  static let v2Cases = [
    "conv2d_basic", "conv2d_pad_stride", "conv2d_rect_nobias", "conv2d_dilation", "conv2d_groups",
    "conv2d_depthwise", "conv2d_1x1", "conv1d", "max_pool2d_2", "max_pool2d_overlap_pad", "avg_pool2d_2",
    "avg_pool2d_pad", "adaptive_avg_pool2d_1", "batch_norm_train", "batch_norm_eval", "batch_norm1d_train",
  ]
  static let v1Cases = ["conv2d_pad1", "conv2d_stride2", "max_pool2d", "avg_pool2d"]

  static func cases(_ fixture: String, _ names: [String]) throws -> [Fixture.Case] {
    let url = try #require(
      Bundle.module.url(forResource: fixture, withExtension: "json", subdirectory: "Fixtures"))
    let all = try Fixture(contentsOf: url).cases
    return try names.map { name in
      try #require(all.first { $0.name == name }, "no case \(name) in \(fixture)")
    }
  }

  @Test func v2CasesPass() throws {
    for testCase in try Self.cases("torch_ops_v2_seed0", Self.v2Cases) {
      let result = ConformanceRunner().run(testCase)
      #expect(result.passed, "\(result)")
    }
  }

  /// Every case of the geometry fixture (issue 19): padding wider than the input, outputs one
  /// wide, strides larger than the kernel, dilation, groups and depthwise kernels with padding,
  /// non-square kernels and strides, and adaptive pooling to sizes that do not divide the input.
  @Test func geometryCasesPass() throws {
    let url = try #require(
      Bundle.module.url(
        forResource: "torch_ops_geometry_seed0", withExtension: "json", subdirectory: "Fixtures"))
    let fixture = try Fixture(contentsOf: url)
    #expect(fixture.cases.count == 44)
    for result in ConformanceRunner().run(fixture) { #expect(result.passed, "\(result)") }
  }

  @Test func v1CasesPass() throws {
    for name in ["torch_ops_seed0", "torch_ops_seed1"] {
      for testCase in try Self.cases(name, Self.v1Cases) {
        let result = ConformanceRunner().run(testCase)
        #expect(result.passed, "\(name): \(result)")
      }
    }
  }
}
