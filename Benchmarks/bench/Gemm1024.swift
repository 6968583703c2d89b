import Awesomegrad

/// C = A·B for Float 1024×1024 matrices through `Tensor.matmul` (OpenBLAS sgemm), no graph.
final class Gemm1024: Workload {
  static let name = "gemm-1024"
  static let engine = "awesomegrad"
  static let dtype = "float32"
  static let defaultSteps = 20
  static let warmUpSteps = 2

  static let n = 1024
  let a: Tensor<Float>
  let b: Tensor<Float>

  init() {
    var rng = SeededGenerator(seed: 0)
    a = Tensor<Float>.randomNormal([Self.n, Self.n], using: &rng)
    b = Tensor<Float>.randomNormal([Self.n, Self.n], using: &rng)
  }

  func step() {
    let c = a.matmul(b)
    precondition(c.count == Self.n * Self.n)
  }

  var flopsPerStep: Double? { 2 * Double(Self.n) * Double(Self.n) * Double(Self.n) }
}
