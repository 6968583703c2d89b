/// Checks a function's gradients against finite differences.
///
/// For inputs x₁…xₙ and a fixed random upstream u of the output's shape, the checker compares the
/// gradient from ``Tensor/backward(gradient:retainGraph:file:line:onLeafGradientReady:)`` of L = Σ f(x)·u with the central difference
///
///     ∂L/∂xᵢⱼ ≈ (L(xᵢⱼ + ε) − L(xᵢⱼ − ε)) / 2ε,
///
/// accumulated in Double. An entry passes when |analytic − numeric| ≤ tolerance·(1 + |numeric|).
/// Use it with `Tensor<Double>`: in Float, rounding swamps the differences unless ε and the
/// tolerance are around 1e-2.
///
/// ```swift
/// let result = checkGradients(of: { x in (x[0] * x[1]).tanh() }, at: [a, b])
/// #expect(result.passed, "\(result)")
/// ```
///
/// - Parameters:
///   - f: the function to check; called once with leaves that require grad, and 2 times per input
///     element in `withoutGrad`. Points where f is not differentiable (ReLU at 0) give spurious failures.
///   - inputs: where to check; their values are copied and not modified.
///   - epsilon: the step ε of the central differences (f(x + ε) − f(x − ε)) / 2ε.
///   - tolerance: an entry passes when |analytic − numeric| ≤ tolerance·(1 + |numeric|).
///   - seed: seeds the random upstream gradient.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func checkGradients<Scalar: TensorScalar>(
  of f: ([Tensor<Scalar>]) -> Tensor<Scalar>, at inputs: [Tensor<Scalar>],
  epsilon: Double = 1e-6, tolerance: Double = 1e-6, seed: UInt64 = 0
) -> GradientCheckResult {
  let shapes = inputs.map(\.shape)
  let values = inputs.map(\.scalars)
  // Analytic gradients of L = Σ f(x)·u.
  let leaves = zip(values, shapes).map { Tensor<Scalar>($0, shape: $1, requiresGrad: true) }
  let output = f(leaves)
  var generator = SeededGenerator(seed: seed)
  let upstream = Tensor<Scalar>.randomNormal(output.shape, using: &generator)
  if output.requiresGrad { output.backward(gradient: upstream) }
  let analytic = zip(leaves, values).map { leaf, v in
    leaf.grad?.scalars ?? [Scalar](repeating: 0, count: v.count)
  }

  func objective(_ perturbed: [[Scalar]]) -> Double {
    withoutGrad {
      let out = f(zip(perturbed, shapes).map { Tensor<Scalar>($0, shape: $1) })
      var total = 0.0
      for (y, u) in zip(out.scalars, upstream.scalars) { total += Double(y) * Double(u) }
      return total
    }
  }

  return compareWithCentralDifferences(
    values, analytic: analytic, epsilon: epsilon, tolerance: tolerance, objective: objective)
}

/// Compares `analytic[i][j]` with the central difference (h(x + ε·e_ij) − h(x − ε·e_ij)) / step of
/// `objective` h at `values`, for every entry, where the step is the one actually taken after
/// rounding x ± ε to Scalar.
func compareWithCentralDifferences<Scalar: TensorScalar>(
  _ values: [[Scalar]], analytic: [[Scalar]], epsilon: Double, tolerance: Double,
  objective: ([[Scalar]]) -> Double
) -> GradientCheckResult {
  var result = GradientCheckResult(tolerance: tolerance)
  var point = values
  for input in values.indices {
    for j in values[input].indices {
      let original = values[input][j]
      point[input][j] = Scalar(Double(original) + epsilon)
      let plus = objective(point)
      point[input][j] = Scalar(Double(original) - epsilon)
      let minus = objective(point)
      point[input][j] = original
      let step = Double(Scalar(Double(original) + epsilon)) - Double(Scalar(Double(original) - epsilon))
      result.record(
        analytic: Double(analytic[input][j]), numeric: (plus - minus) / step, input: input, index: j)
    }
  }
  return result
}

/// The outcome of ``checkGradients(of:at:epsilon:tolerance:seed:)``: the worst disagreement between
/// backpropagated and finite-difference gradients.
public struct GradientCheckResult: Sendable, CustomStringConvertible {
  /// The pass threshold on |analytic − numeric| / (1 + |numeric|).
  public let tolerance: Double
  /// The largest |analytic − numeric| over all entries.
  public private(set) var worstAbsoluteError = 0.0
  /// The largest |analytic − numeric| / (1 + |numeric|) over all entries: the quantity compared with
  /// `tolerance`.
  public private(set) var worstRelativeError = 0.0
  /// Where the worst relative error occurs: the input's position and the element's row-major index.
  public private(set) var worstInput = 0, worstIndex = 0
  /// The two gradients at that element.
  public private(set) var worstAnalytic = 0.0, worstNumeric = 0.0
  /// How many gradient entries were compared.
  public private(set) var checkedCount = 0

  /// How many entries had a non-finite gradient (NaN or ±∞) on either side. Finite differences
  /// cannot confirm such an entry, so any of them fails the check.
  public private(set) var nonFiniteCount = 0

  /// Whether every entry is within tolerance and finite on both sides.
  public var passed: Bool { nonFiniteCount == 0 && worstRelativeError <= tolerance }

  init(tolerance: Double) { self.tolerance = tolerance }

  mutating func record(analytic: Double, numeric: Double, input: Int, index: Int) {
    checkedCount += 1
    // A NaN compares false with everything, so `NaN > worst` would let it through unrecorded. A
    // non-finite entry on either side counts as an infinite error instead: (∞ − ∞) and NaN − NaN are
    // not agreement.
    let finite = analytic.isFinite && numeric.isFinite
    if !finite { nonFiniteCount += 1 }
    let absolute = finite ? Swift.abs(analytic - numeric) : .infinity
    let relative = finite ? absolute / (1 + Swift.abs(numeric)) : .infinity
    worstAbsoluteError = Swift.max(worstAbsoluteError, absolute)
    if relative > worstRelativeError {
      worstRelativeError = relative
      worstInput = input
      worstIndex = index
      worstAnalytic = analytic
      worstNumeric = numeric
    }
  }

  /// Whether the gradients matched, with the largest deviation.
  public var description: String {
    let verdict = passed ? "gradients match" : "GRADIENT MISMATCH"
    let nonFinite = nonFiniteCount == 0 ? "" : "\(nonFiniteCount) entries not finite; "
    return "\(verdict): \(nonFinite)worst relative error \(worstRelativeError) (tolerance \(tolerance)), "
      + "absolute \(worstAbsoluteError), over \(checkedCount) entries; at input \(worstInput) "
      + "element \(worstIndex): backward gave \(worstAnalytic), finite differences \(worstNumeric)"
  }
}

/// Checks a function's gradients of order 1 or 2 against finite differences; order 2 is PyTorch's
/// `gradgradcheck`.
///
/// Order 1 is ``checkGradients(of:at:epsilon:tolerance:seed:)``. Order 2 checks the gradients of the
/// first gradients: with a random upstream v of f's shape and random directions uᵢ of the inputs'
/// shapes, the first gradients gᵢ = ∂⟨f(x), v⟩/∂xᵢ are taken with `createGraph`, and the gradient
/// of h(x) = Σᵢ ⟨gᵢ(x), uᵢ⟩ by a second backward pass (the Hessian of ⟨f, v⟩ applied to u) is
/// compared with central differences of h, where h is evaluated by ordinary first-order passes:
///
///     ∂h/∂xᵢⱼ ≈ (h(xᵢⱼ + ε) − h(xᵢⱼ − ε)) / 2ε
///
/// ```swift
/// let result = checkGradients(of: { x in (x[0] * x[1]).tanh() }, at: [a, b], order: 2)
/// #expect(result.passed, "\(result)")
/// ```
///
/// - Parameters:
///   - f: the function to check; called with leaves that require grad (also for the differences).
///   - inputs: where to check; their values are copied and not modified.
///   - order: 1 or 2.
///   - epsilon: the step ε of the central differences.
///   - tolerance: an entry passes when |analytic − numeric| ≤ tolerance·(1 + |numeric|).
///   - seed: seeds the random upstream gradient and directions.
public func checkGradients<Scalar: TensorScalar>(
  of f: ([Tensor<Scalar>]) -> Tensor<Scalar>, at inputs: [Tensor<Scalar>], order: Int,
  epsilon: Double = 1e-6, tolerance: Double = 1e-6, seed: UInt64 = 0
) -> GradientCheckResult {
  if order == 1 { return checkGradients(of: f, at: inputs, epsilon: epsilon, tolerance: tolerance, seed: seed) }
  if order != 2 {
    argumentFailure("checkGradients", "order must be 1 or 2, got \(order)", file: #fileID, line: #line)
  }
  let shapes = inputs.map(\.shape)
  let values = inputs.map(\.scalars)
  var generator = SeededGenerator(seed: seed)
  let output = withoutGrad { f(zip(values, shapes).map { Tensor<Scalar>($0, shape: $1) }) }
  let upstream = Tensor<Scalar>.randomNormal(output.shape, using: &generator)
  let directions = shapes.map { Tensor<Scalar>.randomNormal($0, using: &generator) }

  /// h(x) = Σᵢ ⟨∂⟨f(x), v⟩/∂xᵢ, uᵢ⟩, and the leaves it was computed at.
  func firstOrderObjective(_ point: [[Scalar]], createGraph: Bool) -> (Tensor<Scalar>, [Tensor<Scalar>]) {
    let leaves = zip(point, shapes).map { Tensor<Scalar>($0, shape: $1, requiresGrad: true) }
    let y = f(leaves)
    let first = gradients(of: y, at: leaves, gradient: upstream, createGraph: createGraph)
    return (innerProduct(first, directions), leaves)
  }
  let (h, leaves) = firstOrderObjective(values, createGraph: true)
  let analytic = gradients(of: h, at: leaves).map(\.scalars)

  return compareWithCentralDifferences(values, analytic: analytic, epsilon: epsilon, tolerance: tolerance) {
    Double(firstOrderObjective($0, createGraph: false).0.item())
  }
}
