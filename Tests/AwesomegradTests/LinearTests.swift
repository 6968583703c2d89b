import Testing

@testable import Awesomegrad

@Suite struct LinearTests {
  /// W = [[1, 2], [3, 4], [5, 6]] ([out 3, in 2]), b = [0.5, −1, 2], x = [[1, −1]]:
  /// y = x·Wᵀ + b = [1 − 2 + 0.5, 3 − 4 − 1, 5 − 6 + 2] = [−0.5, −2, 1].
  /// For L = Σ y: ∂L/∂W = 1ᵀ·x (each row = x), ∂L/∂b = [1, 1, 1], ∂L/∂x = 1·W = [9, 12].
  @Test func forwardAndBackward() {
    let layer = Linear(
      weight: Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [3, 2]), bias: Tensor([0.5, -1, 2]))
    let x = Tensor<Double>([1, -1], shape: [1, 2], requiresGrad: true)
    let y = layer(x)
    #expect(y.scalars == [-0.5, -2, 1])
    y.sum().backward()
    #expect(layer.weight.grad!.scalars == [1, -1, 1, -1, 1, -1])
    #expect(layer.bias!.grad!.scalars == [1, 1, 1])
    #expect(x.grad!.scalars == [9, 12])
    #expect(layer.inputs == 2 && layer.outputs == 3)
  }

  /// Each initialisation draws within its bound: 1/√fan_in (PyTorch), 1 (micrograd, bias 0),
  /// √(6/(fan_in + fan_out)) (Xavier, bias 0).
  @Test func initialisationBounds() {
    var rng = SeededGenerator(seed: 0)
    let kaiming = Linear<Double>(inputs: 100, outputs: 50, using: &rng)
    #expect(kaiming.weight.shape == [50, 100] && kaiming.bias!.shape == [50])
    #expect(kaiming.weight.scalars.allSatisfy { abs($0) <= 0.1 })
    #expect(kaiming.weight.scalars.map(abs).max()! > 0.09)
    #expect(kaiming.bias!.scalars.allSatisfy { abs($0) <= 0.1 } && kaiming.bias!.scalars.contains { $0 != 0 })

    let micrograd = Linear<Double>(inputs: 100, outputs: 50, initialization: .microgradUniform, using: &rng)
    #expect(
      micrograd.weight.scalars.allSatisfy { abs($0) <= 1 } && micrograd.weight.scalars.map(abs).max()! > 0.9)
    #expect(micrograd.bias!.scalars.allSatisfy { $0 == 0 })

    let xavier = Linear<Double>(inputs: 100, outputs: 50, initialization: .xavierUniform, using: &rng)
    let bound = (6.0 / 150).squareRoot()
    #expect(
      xavier.weight.scalars.allSatisfy { abs($0) <= bound }
        && xavier.weight.scalars.map(abs).max()! > 0.9 * bound)

    let noBias = Linear<Float>(inputs: 3, outputs: 2, bias: false, using: &rng)
    #expect(noBias.bias == nil && noBias.namedParameters.map(\.name) == ["weight"])
    #expect(kaiming.weight.requiresGrad && kaiming.bias!.requiresGrad)
  }
}

@Suite struct LinearLeastSquaresTests {
  /// Fitting θ₀ + θ₁t to (0, 1), (1, 3), (2, 5), (3, 8): with A = [[1, t]], the normal equations
  /// [[4, 6], [6, 14]]·θ = [17, 37] give θ = [(14·17 − 6·37)/20, (4·37 − 6·17)/20] = [0.8, 2.3].
  @Test func solvesOverdeterminedSystem() throws {
    let a = Tensor<Double>([1, 0, 1, 1, 1, 2, 1, 3], shape: [4, 2])
    let theta = try leastSquares(a, Tensor([1, 3, 5, 8])).scalars
    #expect(abs(theta[0] - 0.8) < 1e-12 && abs(theta[1] - 2.3) < 1e-12)
    // Several right-hand sides: [4, 2] → [2, 2]; the inputs are not modified.
    let b = Tensor<Float>([1, 0, 3, 1, 5, 2, 8, 3], shape: [4, 2])
    let x = try leastSquares(Tensor<Float>(a), b)
    #expect(x.shape == [2, 2])
    #expect(abs(x.scalars[0] - 0.8) < 1e-5 && abs(x.scalars[3] - 1) < 1e-5)
    #expect(a.scalars == [1, 0, 1, 1, 1, 2, 1, 3])
  }

  /// A zero column: no unique solution. (gels reports an exactly zero diagonal of R; nearly dependent
  /// columns give a huge solution, not an error.)
  @Test func rankDeficientThrows() {
    let a = Tensor<Double>([1, 0, 2, 0, 3, 0], shape: [3, 2])
    #expect(throws: LinearAlgebraError.rankDeficient) { try leastSquares(a, Tensor([1, 2, 3])) }
  }
}

/// The fused `linear` op against its definition, matmul + broadcast add.
@Suite struct FusedLinearTests {
  /// x·Wᵀ + b for x [2, 3, 4], W [5, 4], b [5], in Double: the fused op and matmul + add give the
  /// same values and the same gradients for x, W and b (up to gemm's rounding with β = 1).
  @Test func matchesMatmulPlusBias() {
    var rng = SeededGenerator(seed: 11)
    let x = Tensor<Double>.randomNormal([2, 3, 4], requiresGrad: true, using: &rng)
    let w = Tensor<Double>.randomNormal([5, 4], requiresGrad: true, using: &rng)
    let b = Tensor<Double>.randomNormal([5], requiresGrad: true, using: &rng)
    let upstream = Tensor<Double>.randomNormal([2, 3, 5], using: &rng)
    let fused = x.linear(weight: w, bias: b)
    (fused * upstream).sum().backward()
    let fusedGradients = [x, w, b].map { $0.grad!.scalars }
    [x, w, b].forEach { $0.zeroGrad() }
    let reference = x.matmul(w, transposeB: true) + b
    (reference * upstream).sum().backward()
    #expect(fused.shape == [2, 3, 5])
    for (f, r) in zip(fused.scalars, reference.scalars) { #expect(abs(f - r) < 1e-14) }
    for (fusedGradient, tensor) in zip(fusedGradients, [x, w, b]) {
      for (f, r) in zip(fusedGradient, tensor.grad!.scalars) { #expect(abs(f - r) < 1e-14) }
    }
  }

  /// A batch of no rows gives [0, out] and zero weight and bias gradients.
  @Test func emptyBatch() {
    let x = Tensor<Float>.zeros([0, 3])
    let w = Tensor<Float>.ones([2, 3], requiresGrad: true)
    let b = Tensor<Float>.ones([2], requiresGrad: true)
    let y = x.linear(weight: w, bias: b)
    #expect(y.shape == [0, 2])
    y.sum().backward()
    #expect(w.grad?.scalars == [0, 0, 0, 0, 0, 0])
    #expect(b.grad?.scalars == [0, 0])
  }
}
