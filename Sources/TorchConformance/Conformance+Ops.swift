import Awesomegrad

/// An input of a case: a differentiable tensor, integer indices (class labels, token ids), or a
/// boolean mask.
enum Operand<Scalar: TensorScalar> {
  case tensor(Tensor<Scalar>)
  case indices(IndexTensor)
  case mask(MaskTensor)
}

/// What an op returns: real values (with gradients), or integer indices (argmax).
enum OpResult<Scalar: TensorScalar> {
  case tensor(Tensor<Scalar>)
  case indices(IndexTensor)
}

/// Why a case could not be run.
public enum ConformanceError: Error, CustomStringConvertible {
  case unsupportedOp(String)
  case badCase(op: String, problem: String)

  public var description: String {
    switch self {
    case .unsupportedOp(let op): "unsupported op \(op)"
    case .badCase(let op, let problem): "\(op): \(problem)"
    }
  }
}

/// The fixture's op names (PyTorch's) mapped to Awesomegrad calls.
func apply<Scalar: TensorScalar>(
  _ op: String, attributes: [String: Fixture.Attribute], to inputs: [Operand<Scalar>]
) throws -> OpResult<Scalar> {
  if op == "argmax" {
    guard case .tensor(let x)? = inputs.first else {
      throw ConformanceError.badCase(op: op, problem: "input 0 must be a floating-point tensor")
    }
    let axis: Int?
    switch attributes["axis"] {
    case nil, .null?: axis = nil
    case .number(let value)?: axis = Int(value)
    default: throw ConformanceError.badCase(op: op, problem: "attribute axis must be a number or null")
    }
    guard case .bool(let keep)? = attributes["keepdims"] ?? .bool(false) else {
      throw ConformanceError.badCase(op: op, problem: "attribute keepdims must be true or false")
    }
    return .indices(x.argmax(axis: axis, keepingDimensions: keep))
  }
  return try .tensor(applyReal(op, attributes: attributes, to: inputs))
}

/// The ops whose result is real-valued and differentiable.
func applyReal<Scalar: TensorScalar>(
  _ op: String, attributes: [String: Fixture.Attribute], to inputs: [Operand<Scalar>]
) throws -> Tensor<Scalar> {
  func tensor(_ i: Int) throws -> Tensor<Scalar> {
    guard i < inputs.count, case .tensor(let t) = inputs[i] else {
      throw ConformanceError.badCase(op: op, problem: "input \(i) must be a floating-point tensor")
    }
    return t
  }
  func indices(_ i: Int) throws -> [Int] { try indexTensor(i).scalars }
  func indexTensor(_ i: Int) throws -> IndexTensor {
    guard i < inputs.count, case .indices(let values) = inputs[i] else {
      throw ConformanceError.badCase(op: op, problem: "input \(i) must be an integer tensor")
    }
    return values
  }
  func mask(_ i: Int) throws -> MaskTensor {
    guard i < inputs.count, case .mask(let values) = inputs[i] else {
      throw ConformanceError.badCase(op: op, problem: "input \(i) must be a boolean tensor")
    }
    return values
  }
  func number(_ key: String) throws -> Double {
    guard case .number(let value) = attributes[key] else {
      throw ConformanceError.badCase(op: op, problem: "attribute \(key) must be a number")
    }
    return value
  }
  func integer(_ key: String) throws -> Int { Int(try number(key)) }
  func flag(_ key: String, default value: Bool = false) throws -> Bool {
    switch attributes[key] {
    case nil, .null?: return value
    case .bool(let flag)?: return flag
    default: throw ConformanceError.badCase(op: op, problem: "attribute \(key) must be true or false")
    }
  }
  /// A list of axes, or nil (all axes) for null or a missing key; a single number is a one-axis list.
  func axes(_ key: String) throws -> [Int]? {
    switch attributes[key] {
    case nil, .null?: return nil
    case .number(let value)?: return [Int(value)]
    case .numbers(let values)?: return values.map { Int($0) }
    default: throw ConformanceError.badCase(op: op, problem: "attribute \(key) must be a list of axes")
    }
  }
  func reduction() throws -> Reduction {
    guard case .string(let name)? = attributes["reduction"] ?? .string("mean"),
      let value = Reduction(rawValue: name)
    else {
      throw ConformanceError.badCase(op: op, problem: "reduction must be mean, sum or none")
    }
    return value
  }

  switch op {
  case "add": return try tensor(0) + tensor(1)
  case "sub": return try tensor(0) - tensor(1)
  case "mul": return try tensor(0) * tensor(1)
  case "div": return try tensor(0) / tensor(1)
  case "matmul": return try tensor(0).matmul(tensor(1))
  case "neg": return try -tensor(0)
  case "exp": return try tensor(0).exp()
  case "log": return try tensor(0).log()
  case "tanh": return try tensor(0).tanh()
  case "relu": return try tensor(0).relu()
  case "sigmoid": return try tensor(0).sigmoid()
  case "sqrt": return try tensor(0).sqrt()
  case "abs": return try tensor(0).abs()
  case "gelu": return try tensor(0).gelu()
  case "gelu_tanh": return try tensor(0).gelu(approximate: .tanh)
  case "silu": return try tensor(0).silu()
  case "softplus": return try tensor(0).softplus()
  case "pow":
    // With an "exponent" attribute, x ** exponent; with two inputs, x0 ** x1 broadcast (grad2 format).
    if attributes["exponent"] == nil && inputs.count == 2 { return try Tensor.pow(tensor(0), tensor(1)) }
    return try tensor(0).pow(Scalar(number("exponent")))
  case "leaky_relu": return try tensor(0).leakyReLU(negativeSlope: Scalar(number("negative_slope")))
  case "sum": return try tensor(0).sum(axes: axes("axes"), keepingDimensions: flag("keepdims"))
  case "mean": return try tensor(0).mean(axes: axes("axes"), keepingDimensions: flag("keepdims"))
  case "max": return try tensor(0).max(axes: axes("axes"), keepingDimensions: flag("keepdims"))
  case "var":
    let correction =
      try attributes["correction"] != nil ? integer("correction") : (flag("unbiased", default: true) ? 1 : 0)
    return try tensor(0).variance(axes: axes("axes"), correction: correction, keepingDimensions: flag("keepdims"))
  case "softmax": return try tensor(0).softmax(axis: integer("axis"))
  case "log_softmax": return try tensor(0).logSoftmax(axis: integer("axis"))
  case "logsumexp": return try tensor(0).logSumExp(axes: axes("axis"), keepingDimensions: flag("keepdims"))
  case "mse_loss": return try mse(tensor(0), tensor(1), reduction: reduction())
  case "binary_cross_entropy_with_logits":
    return try binaryCrossEntropyWithLogits(tensor(0), targets: tensor(1), reduction: reduction())
  case "transpose":
    guard let pair = try axes("axes"), pair.count == 2 else {
      throw ConformanceError.badCase(op: op, problem: "attribute axes must name two axes")
    }
    return try tensor(0).transposed(pair[0], pair[1])
  case "permute":
    guard let order = try axes("axes") else {
      throw ConformanceError.badCase(op: op, problem: "attribute axes must be a permutation")
    }
    return try tensor(0).permuted(order)
  case "reshape":
    guard let shape = try axes("shape") else {
      throw ConformanceError.badCase(op: op, problem: "attribute shape must be a list of sizes")
    }
    return try tensor(0).reshaped(shape)
  case "concat": return try Tensor.concatenated(inputs.indices.map(tensor), axis: integer("axis"))
  // Transformer ops: indexing, selection, attention, normalisation and the indexed losses.
  case "embedding": return try embedding(indexTensor(1), weight: tensor(0))
  case "index_select": return try tensor(0).indexSelect(axis: integer("axis"), indexTensor(1))
  case "gather": return try tensor(0).gathering(axis: integer("axis"), indexTensor(1))
  case "layer_norm":
    let weight = try tensor(1)
    let normalized = try axes("normalized_shape") ?? weight.shape
    let bias = inputs.count > 2 ? try tensor(2) : nil
    let eps = attributes["eps"] == nil ? 1e-5 : try number("eps")
    return layerNorm(try tensor(0), normalizedShape: normalized, weight: weight, bias: bias, eps: eps)
  case "scaled_dot_product_attention":
    return try scaledDotProductAttention(
      query: tensor(0), key: tensor(1), value: tensor(2), mask: inputs.count > 3 ? mask(3) : nil,
      isCausal: flag("causal"))
  case "where": return try Tensor.where(mask(0), tensor(1), tensor(2))
  case "masked_fill": return try tensor(0).maskedFill(mask(1), with: Scalar(number("value")))
  case "tril": return try tensor(0).lowerTriangle(diagonal: integer("diagonal"))
  case "triu": return try tensor(0).upperTriangle(diagonal: integer("diagonal"))
  case "maximum": return try Tensor.maximum(tensor(0), tensor(1))
  case "minimum": return try Tensor.minimum(tensor(0), tensor(1))
  case "clamp":
    func bound(_ key: String) throws -> Scalar? {
      if case .number(let value)? = attributes[key] { return Scalar(value) }
      return nil
    }
    return try tensor(0).clamped(min: bound("min"), max: bound("max"))
  case "min": return try tensor(0).min(axes: axes("axes"), keepingDimensions: flag("keepdims"))
  case "cumsum": return try tensor(0).cumulativeSum(axis: integer("axis"))
  case "stack": return try Tensor.stacked(inputs.indices.map(tensor), axis: integer("axis"))
  case "expand":
    guard let shape = try axes("shape") else {
      throw ConformanceError.badCase(op: op, problem: "attribute shape must be a list of sizes")
    }
    return try tensor(0).expanded(to: shape)
  case "slice":
    let end: Int? = attributes["end"].flatMap { if case .number(let v) = $0 { Int(v) } else { nil } }
    let step = attributes["step"] == nil ? 1 : try integer("step")
    return try tensor(0).sliced(axis: integer("axis"), start: integer("start"), end: end, step: step)
  case "flip":
    guard let flipAxes = try axes("axes") else {
      throw ConformanceError.badCase(op: op, problem: "attribute axes must be a list of axes")
    }
    return try tensor(0).flipped(axes: flipAxes)
  case "cross_entropy":
    let ignore: Int? = attributes["ignore_index"] == nil ? nil : try integer("ignore_index")
    let smoothing = attributes["label_smoothing"] == nil ? 0 : try number("label_smoothing")
    return try crossEntropy(
      tensor(0), labels: indexTensor(1), ignoreIndex: ignore, labelSmoothing: smoothing,
      reduction: reduction())
  case "nll_loss":
    let ignore: Int? = attributes["ignore_index"] == nil ? nil : try integer("ignore_index")
    return try nllLoss(tensor(0), labels: indexTensor(1), ignoreIndex: ignore, reduction: reduction())
  case "huber_loss":
    let delta = attributes["delta"] == nil ? 1 : try number("delta")
    return try huberLoss(tensor(0), tensor(1), delta: Scalar(delta), reduction: reduction())
  case "l1_loss": return try l1Loss(tensor(0), tensor(1), reduction: reduction())
  // Convolutional networks (Conformance+Convolution.swift).
  case "conv2d", "conv1d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "flatten":
    return try applyConvolutional(op, attributes: attributes, to: inputs.indices.map(tensor))
  default: throw ConformanceError.unsupportedOp(op)
  }
}
