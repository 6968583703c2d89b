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
  /// Called with `float64` or `float32` just before a case runs in that dtype: the `conformance`
  /// tool's worker reports it, so that a case that crashes is named with its dtype.
  public var willCheck: (@Sendable (_ dtype: String) -> Void)? = nil

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
    willCheck?("float64")
    let double = check(testCase, as: Double.self, tolerance: doubleTolerance)
    willCheck?("float32")
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
    let inputs = testCase.inputs.map { array -> Operand<Scalar> in
      if array.isInteger { return .indices(IndexTensor(array.data.map { Int($0) }, shape: array.shape)) }
      if array.isBool { return .mask(MaskTensor(array.data.map { $0 != 0 }, shape: array.shape)) }
      return .tensor(Tensor<Scalar>(array.data.map { Scalar($0) }, shape: array.shape, requiresGrad: true))
    }
    let result: OpResult<Scalar>
    do {
      result = try apply(testCase.op, attributes: testCase.attrs, to: inputs)
    } catch {
      return (.infinity, "\(error)")
    }
    var worst = 0.0
    var problems: [String] = []
    func compare(_ label: String, _ shape: [Int]?, _ actual: [Double], _ expected: Fixture.Array) {
      guard let shape else {
        problems.append("\(label): no gradient was computed")
        worst = .infinity
        return
      }
      guard shape == expected.shape else {
        problems.append("\(label): shape \(shape), expected \(expected.shape)")
        worst = .infinity
        return
      }
      let (deviation, index) = worstDeviation(actual, expected.data)
      if !(deviation <= worst) { worst = deviation }
      if !(deviation <= tolerance) {
        problems.append("\(label)[\(index)] = \(actual[index]), expected \(expected.data[index])")
      }
    }
    let output: Tensor<Scalar>
    switch result {
    case .indices(let indices):
      // An integer output (argmax) has no gradient: compare the indices exactly.
      compare("output", indices.shape, indices.scalars.map(Double.init), testCase.output)
      if worst > 0 { worst = .infinity }
      return (worst, problems.isEmpty ? nil : problems.joined(separator: "; "))
    case .tensor(let tensor): output = tensor
    }
    if Scalar.self == Float.self && !testCase.fitsInFloat {
      return (0, nil)  // finite in float64 but outside Float's range: the case does not apply
    }
    compare("output", output.shape, output.scalars.map { Double($0) }, testCase.output)
    if let grads = testCase.grads, let expectedUpstream = testCase.upstream, output.requiresGrad {
      let upstream = Tensor<Scalar>(expectedUpstream.data.map { Scalar($0) }, shape: expectedUpstream.shape)
      if upstream.shape != output.shape {
        return (.infinity, "output shape \(output.shape), expected \(expectedUpstream.shape)")
      }
      if let grads2 = testCase.grads2 {
        // Second order: the first gradients with a graph, then the gradient of Σ_j sum(g_j · u_j).
        let tensors = inputs.compactMap { input -> Tensor<Scalar>? in
          if case .tensor(let tensor) = input { return tensor }
          return nil
        }
        let first = gradients(of: output, at: tensors, gradient: upstream, createGraph: true)
        var next = 0
        var firstByInput: [Tensor<Scalar>?] = []
        var directionTerms: [Tensor<Scalar>] = []
        for (i, input) in inputs.enumerated() {
          guard case .tensor = input else {
            firstByInput.append(nil)
            continue
          }
          let gradient = first[next]
          next += 1
          firstByInput.append(gradient)
          guard let directions = testCase.directions, i < directions.count, let direction = directions[i] else {
            continue
          }
          let u = Tensor<Scalar>(direction.data.map { Scalar($0) }, shape: direction.shape)
          if u.shape != gradient.shape {
            return (.infinity, "direction \(i) has shape \(u.shape), the gradient \(gradient.shape)")
          }
          directionTerms.append((gradient * u).sum())
        }
        for (i, (gradient, expected)) in zip(firstByInput, grads).enumerated() {
          guard let gradient, let expected else { continue }
          compare("grad[\(i)]", gradient.shape, gradient.scalars.map { Double($0) }, expected)
        }
        let objective = directionTerms.dropFirst().reduce(directionTerms.first ?? Tensor(scalar: 0), +)
        let second = gradients(of: objective, at: tensors)
        next = 0
        for (i, input) in inputs.enumerated() {
          guard case .tensor = input else { continue }
          let gradient = second[next]
          next += 1
          guard i < grads2.count, let expected = grads2[i] else { continue }
          compare("grads2[\(i)]", gradient.shape, gradient.scalars.map { Double($0) }, expected)
        }
      } else {
        output.backward(gradient: upstream)
        for (i, (input, expected)) in zip(inputs, grads).enumerated() {
          guard case .tensor(let tensor) = input, let expected else { continue }
          compare("grad[\(i)]", tensor.grad?.shape, tensor.grad?.scalars.map { Double($0) } ?? [], expected)
        }
      }
    } else if testCase.grads != nil && testCase.grads!.contains(where: { $0 != nil }) {
      problems.append("the output does not require grad, so no gradient reaches the inputs")
      worst = .infinity
    }
    return (worst, problems.isEmpty ? nil : problems.joined(separator: "; "))
  }
}

extension Fixture.Case {
  /// Whether every finite input and expected value is finite in Float too. A case with a value that
  /// is finite in float64 but overflows Float (1e300) does not apply in Float.
  var fitsInFloat: Bool {
    let arrays = inputs + [output] + (upstream.map { [$0] } ?? []) + (grads ?? []).compactMap { $0 }
    return arrays.allSatisfy { array in
      array.data.allSatisfy { !$0.isFinite || $0 == 0 || (Float($0).isFinite && Float($0).isNormal) }
    }
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

  /// A result with these fields (the `conformance` tool makes one for a case that crashed).
  public init(
    name: String, op: String, passed: Bool, worstDeviation: Double, dtype: String, message: String?
  ) {
    (self.name, self.op, self.passed, self.worstDeviation) = (name, op, passed, worstDeviation)
    (self.dtype, self.message) = (dtype, message)
  }

  public var description: String {
    let verdict = passed ? "PASS" : "FAIL"
    let detail = message.map { ": \($0)" } ?? ""
    let deviation = worstDeviation.isFinite ? ", worst deviation \(worstDeviation)" : ""
    return "\(verdict) \(name) (\(dtype)\(deviation))\(detail)"
  }
}

/// max over i of |a − b| / (1 + |b|), and where it occurs. A non-finite expected value is matched
/// only by the same non-finite value (NaN by NaN, +∞ by +∞); anything else is infinitely far.
func worstDeviation(_ actual: [Double], _ expected: [Double]) -> (Double, Int) {
  var worst = 0.0, index = 0
  for (i, (a, b)) in zip(actual, expected).enumerated() {
    var d: Double
    if !b.isFinite || !a.isFinite {
      d = (a.isNaN && b.isNaN) || a == b ? 0 : .infinity
    } else {
      d = Swift.abs(a - b) / (1 + Swift.abs(b))
    }
    if d > worst {
      worst = d
      index = i
    }
  }
  return (worst, index)
}
