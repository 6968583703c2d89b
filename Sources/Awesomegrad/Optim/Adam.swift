import Foundation

/// Adam, with exactly `torch.optim.Adam`'s update rule. For each parameter p with gradient g, at its
/// step t = 1, 2, …:
///
///     g ← g + λ·p                                  (L2 weight decay λ, coupled: it enters the moments)
///     m ← m + (1 − β₁)·(g − m)                      (= β₁·m + (1 − β₁)·g)
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// ``AdamW`` is the same with decoupled weight decay.
public final class Adam<Scalar: TensorScalar>: StatefulOptimizer {
  public let parameters: [Tensor<Scalar>]
  public var learningRate: Double
  /// β₁ and β₂: the decay rates of the first and second moment estimates.
  public let betas: (Double, Double)
  /// ε added to the square root of the second moment, for stability.
  public let eps: Double
  /// The L2 penalty λ added to the gradient (λ·θ), as PyTorch's Adam.
  public let weightDecay: Double
  /// Whether weight decay is decoupled (AdamW: p ← p − lr·λ·p before the Adam step) or L2 (Adam).
  let decoupledWeightDecay: Bool
  /// The first and second moments m, v of each parameter, by position; nil before its first step.
  var moments: [(m: Storage<Scalar>, v: Storage<Scalar>)?]
  /// The number of steps taken by each parameter (PyTorch counts per parameter).
  var stepCounts: [Int]

  /// An optimizer over `parameters` with PyTorch's `torch.optim.Adam` defaults.
  public convenience init(
    _ parameters: [Tensor<Scalar>], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
    eps: Double = 1e-8, weightDecay: Double = 0
  ) {
    self.init(
      parameters, learningRate: learningRate, betas: betas, eps: eps, weightDecay: weightDecay,
      decoupledWeightDecay: false)
  }

  init(
    _ parameters: [Tensor<Scalar>], learningRate: Double, betas: (Double, Double), eps: Double,
    weightDecay: Double, decoupledWeightDecay: Bool
  ) {
    self.parameters = uniqueByIdentity(parameters)
    self.learningRate = learningRate
    self.betas = betas
    self.eps = eps
    self.weightDecay = weightDecay
    self.decoupledWeightDecay = decoupledWeightDecay
    moments = Array(repeating: nil, count: self.parameters.count)
    stepCounts = Array(repeating: 0, count: self.parameters.count)
  }

  public func step() {
    for (index, parameter) in parameters.enumerated() {
      guard let grad = parameter.gradStorage else { continue }
      if moments[index] == nil {
        moments[index] = (
          Storage(repeating: 0, shape: parameter.shape), Storage(repeating: 0, shape: parameter.shape)
        )
      }
      stepCounts[index] += 1
      let t = Double(stepCounts[index])
      let (m, v) = moments[index]!
      // The bias corrections are computed in Double, as PyTorch does with Python floats.
      let stepSize = learningRate / (1 - Foundation.pow(betas.0, t))
      let correction2Root = (1 - Foundation.pow(betas.1, t)).squareRoot()
      parameter.updateValues { values in
        CPU.adam(
          values: values.baseAddress!, grad: grad.buffer.base, m: m.buffer.base, v: v.buffer.base,
          count: values.count, stepSize: Scalar(stepSize), correction2Root: Scalar(correction2Root),
          beta1: Scalar(betas.0), beta2: Scalar(betas.1), eps: Scalar(eps),
          l2: decoupledWeightDecay ? 0 : Scalar(weightDecay),
          decay: decoupledWeightDecay ? Scalar(1 - learningRate * weightDecay) : 1)
      }
    }
  }
}

/// AdamW: Adam with decoupled weight decay, exactly `torch.optim.AdamW`: before the Adam step (which
/// then has no weight decay in g),
///
///     p ← p·(1 − lr·λ)
public final class AdamW<Scalar: TensorScalar>: StatefulOptimizer {
  private let adam: Adam<Scalar>

  public var parameters: [Tensor<Scalar>] { adam.parameters }
  public var learningRate: Double {
    get { adam.learningRate }
    set { adam.learningRate = newValue }
  }
  /// β₁ and β₂: the decay rates of the first and second moment estimates.
  public var betas: (Double, Double) { adam.betas }
  /// ε added to the square root of the second moment, for stability.
  public var eps: Double { adam.eps }
  /// The decoupled weight decay λ: each step multiplies θ by 1 − lr·λ.
  public var weightDecay: Double { adam.weightDecay }

  /// PyTorch's defaults, including weight decay 0.01.
  public init(
    _ parameters: [Tensor<Scalar>], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
    eps: Double = 1e-8, weightDecay: Double = 1e-2
  ) {
    adam = Adam(
      parameters, learningRate: learningRate, betas: betas, eps: eps, weightDecay: weightDecay,
      decoupledWeightDecay: true)
  }

  public func step() { adam.step() }

  public func stateTensors() -> [String: Tensor<Scalar>] { adam.stateTensors() }

  public func loadStateTensors(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    try adam.loadStateTensors(state)
  }
}

extension Adam {
  /// `i.exp_avg`, `i.exp_avg_sq` (the moments m, v) and `i.step` (a scalar) for every stepped
  /// parameter i, as in PyTorch's `Adam.state_dict()`.
  public func stateTensors() -> [String: Tensor<Scalar>] {
    var state: [String: Tensor<Scalar>] = [:]
    for (i, moment) in moments.enumerated() {
      guard let moment else { continue }
      state["\(i).exp_avg"] = stateCopy(moment.m)
      state["\(i).exp_avg_sq"] = stateCopy(moment.v)
      state["\(i).step"] = Tensor(scalar: Scalar(stepCounts[i]))
    }
    return state
  }

  public func loadStateTensors(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    var m = [Storage<Scalar>?](repeating: nil, count: parameters.count)
    var v = m
    var steps = [Int?](repeating: nil, count: parameters.count)
    for (key, tensor) in state {
      let (i, field) = try parseStateKey(key, parameterCount: parameters.count)
      let expected = field == "step" ? [] : parameters[i].shape
      guard tensor.shape == expected else {
        throw .shapeMismatch(name: key, expected: expected, found: tensor.shape)
      }
      switch field {
      case "exp_avg": m[i] = tensor.storage.copy()
      case "exp_avg_sq": v[i] = tensor.storage.copy()
      case "step": steps[i] = Int(tensor.scalars[0])
      default: throw .unexpectedKey(key)
      }
    }
    var newMoments: [(m: Storage<Scalar>, v: Storage<Scalar>)?] = []
    for i in parameters.indices {
      switch (m[i], v[i], steps[i]) {
      case (nil, nil, nil): newMoments.append(nil)
      case (let mi?, let vi?, _?): newMoments.append((mi, vi))
      default:
        throw .incomplete(parameter: i, missing: m[i] == nil ? "exp_avg" : v[i] == nil ? "exp_avg_sq" : "step")
      }
    }
    moments = newMoments
    stepCounts = steps.map { $0 ?? 0 }
  }
}
