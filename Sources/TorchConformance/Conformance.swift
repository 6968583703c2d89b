import Awesomegrad

/// Runs the cases of a PyTorch fixture through Awesomegrad, in Double and in Float, and compares the
/// output and the gradient of sum(output · upstream) with respect to every floating-point input.
///
/// A value `a` matches the reference `b` when |a − b| ≤ tolerance · (1 + |b|). A case passes only if
/// both dtypes pass. An op the engine does not have is a failure ("unsupported op conv2d"), never a skip.
public struct ConformanceRunner: Sendable {
  /// Tolerance in Double: the engine should agree with float64 PyTorch to rounding.
  public var doubleTolerance: Double
  /// Tolerance in Float: inputs are rounded to Float and the op runs in single precision.
  public var floatTolerance: Double

  public init(doubleTolerance: Double = 1e-9, floatTolerance: Double = 1e-4) {
    self.doubleTolerance = doubleTolerance
    self.floatTolerance = floatTolerance
  }

  /// The results of every case of `fixture`, in order.
  public func run(_ fixture: Fixture) -> [CaseResult] {
    fixture.cases.map(run)
  }

  /// Runs one case in Double, then in Float. The result reports the first failing dtype, or the
  /// larger of the two deviations when both pass.
  public func run(_ testCase: Fixture.Case) -> CaseResult {
    let double = check(testCase, as: Double.self, tolerance: doubleTolerance)
    let float = check(testCase, as: Float.self, tolerance: floatTolerance)
    // Report the failing dtype first, else whichever deviates more relative to its tolerance.
    for (outcome, dtype) in [(double, "float64"), (float, "float32")] where outcome.message != nil {
      return CaseResult(
        name: testCase.name, op: testCase.op, passed: false, worstDeviation: outcome.worst, dtype: dtype,
        message: outcome.message)
    }
    let doubleWorse = double.worst / doubleTolerance >= float.worst / floatTolerance
    return CaseResult(
      name: testCase.name, op: testCase.op, passed: true,
      worstDeviation: doubleWorse ? double.worst : float.worst, dtype: doubleWorse ? "float64" : "float32",
      message: nil)
  }

  /// The worst normalized deviation |a − b| / (1 + |b|) over the output and every gradient, and a
  /// message when something is wrong.
  func check<Scalar: TensorScalar>(
    _ testCase: Fixture.Case, as _: Scalar.Type, tolerance: Double
  ) -> (worst: Double, message: String?) {
    let inputs = testCase.inputs.map { array in
      array.isInteger
        ? Operand<Scalar>.indices(array.data.map { Int($0) }, shape: array.shape)
        : .tensor(Tensor<Scalar>(array.data.map { Scalar($0) }, shape: array.shape, requiresGrad: true))
    }
    let output: Tensor<Scalar>
    do {
      output = try apply(testCase.op, attributes: testCase.attrs, to: inputs)
    } catch {
      return (.infinity, "\(error)")
    }
    var worst = 0.0
    var problems: [String] = []
    func compare(_ label: String, _ actual: Tensor<Scalar>?, _ expected: Fixture.Array) {
      guard let actual else {
        problems.append("\(label): no gradient was computed")
        worst = .infinity
        return
      }
      guard actual.shape == expected.shape else {
        problems.append("\(label): shape \(actual.shape), expected \(expected.shape)")
        worst = .infinity
        return
      }
      let (deviation, index) = worstDeviation(actual.scalars.map { Double($0) }, expected.data)
      if !(deviation <= worst) { worst = deviation }
      if !(deviation <= tolerance) {
        problems.append(
          "\(label)[\(index)] = \(Double(actual.scalars[index])), expected \(expected.data[index])")
      }
    }
    compare("output", output, testCase.output)
    if let grads = testCase.grads, output.requiresGrad {
      let upstream = Tensor<Scalar>(testCase.upstream.data.map { Scalar($0) }, shape: testCase.upstream.shape)
      if upstream.shape != output.shape {
        return (.infinity, "output shape \(output.shape), expected \(testCase.upstream.shape)")
      }
      output.backward(gradient: upstream)
      for (i, (input, expected)) in zip(inputs, grads).enumerated() {
        guard case .tensor(let tensor) = input, let expected else { continue }
        compare("grad[\(i)]", tensor.grad, expected)
      }
    } else if testCase.grads != nil && testCase.grads!.contains(where: { $0 != nil }) {
      problems.append("the output does not require grad, so no gradient reaches the inputs")
      worst = .infinity
    }
    return (worst, problems.isEmpty ? nil : problems.joined(separator: "; "))
  }
}

/// The outcome of one fixture case.
public struct CaseResult: Sendable, CustomStringConvertible {
  public var name: String
  public var op: String
  /// True when both Double and Float agree with the reference within tolerance.
  public var passed: Bool
  /// The largest |a − b| / (1 + |b|) over the output and gradients, for `dtype`; ∞ when the case
  /// could not be run.
  public var worstDeviation: Double
  /// The dtype the deviation and message refer to: `float64` or `float32`.
  public var dtype: String
  /// Why the case failed; nil when it passed.
  public var message: String?

  public var description: String {
    let verdict = passed ? "PASS" : "FAIL"
    let detail = message.map { ": \($0)" } ?? ""
    let deviation = worstDeviation.isFinite ? ", worst deviation \(worstDeviation)" : ""
    return "\(verdict) \(name) (\(dtype)\(deviation))\(detail)"
  }
}

/// max over i of |a − b| / (1 + |b|), and where it occurs. NaN counts as infinitely far.
func worstDeviation(_ actual: [Double], _ expected: [Double]) -> (Double, Int) {
  var worst = 0.0, index = 0
  for (i, (a, b)) in zip(actual, expected).enumerated() {
    var d = Swift.abs(a - b) / (1 + Swift.abs(b))
    if d.isNaN { d = a.isNaN && b.isNaN ? 0 : .infinity }
    if d > worst {
      worst = d
      index = i
    }
  }
  return (worst, index)
}
