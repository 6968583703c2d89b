import Awesomegrad

/// The fixture's convolutional-network ops (PyTorch's names and attributes) mapped to Awesomegrad
/// calls: conv2d, conv1d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, batch_norm and flatten.
///
/// Sizes come as a list (`"stride": [2, 2]`) or one number (`"stride": 2`), as PyTorch accepts both.
/// batch_norm's inputs are `x, weight, bias` when `training` and `x, weight, bias, running_mean,
/// running_var` otherwise (the fixture's order, checked against its outputs).
func applyConvolutional<Scalar: TensorScalar>(
  _ op: String, attributes: [String: Fixture.Attribute], to tensors: [Tensor<Scalar>]
) throws -> Tensor<Scalar> {
  func input(_ i: Int) throws -> Tensor<Scalar> {
    guard i < tensors.count else {
      throw ConformanceError.badCase(
        op: op, problem: "expected at least \(i + 1) inputs, got \(tensors.count)")
    }
    return tensors[i]
  }
  func pair(_ key: String, default value: IntOrPair? = nil) throws -> IntOrPair {
    switch attributes[key] {
    case .number(let n)?: return IntOrPair(Int(n))
    case .numbers(let list)? where list.count == 1: return IntOrPair(Int(list[0]))
    case .numbers(let list)? where list.count == 2: return IntOrPair(Int(list[0]), Int(list[1]))
    case nil, .null?:
      if let value { return value }
      fallthrough
    default:
      throw ConformanceError.badCase(op: op, problem: "attribute \(key) must be a size or a pair of sizes")
    }
  }
  func integer(_ key: String, default value: Int) throws -> Int {
    switch attributes[key] {
    case nil, .null?: return value
    case .number(let n)?: return Int(n)
    case .numbers(let list)? where list.count == 1: return Int(list[0])
    default: throw ConformanceError.badCase(op: op, problem: "attribute \(key) must be a number")
    }
  }

  // Every attribute is either used or checked to hold PyTorch's default: an attribute the runner
  // does not implement (ceil_mode=True, a pooling dilation) fails the case by name instead of being
  // ignored into a wrong reference comparison.
  let known: [String: Set<String>] = [
    "conv2d": ["stride", "padding", "dilation", "groups"],
    "conv1d": ["stride", "padding", "dilation", "groups"],
    "max_pool2d": ["kernel", "stride", "padding", "ceil_mode", "dilation"],
    "avg_pool2d": ["kernel", "stride", "padding", "count_include_pad", "ceil_mode", "divisor_override"],
    "adaptive_avg_pool2d": ["output_size"], "batch_norm": ["eps", "training", "momentum"],
    "flatten": ["start_dim", "end_dim"],
  ]
  if let names = known[op], let unknown = attributes.keys.sorted().first(where: { !names.contains($0) }) {
    throw ConformanceError.badCase(op: op, problem: "attribute \(unknown) is not supported")
  }
  switch attributes["ceil_mode"] {
  case nil, .null?, .bool(false)?: break
  default:
    throw ConformanceError.badCase(op: op, problem: "ceil_mode \(attributes["ceil_mode"]!) is not supported")
  }
  if op == "max_pool2d", try pair("dilation", default: 1) != IntOrPair(1) {
    throw ConformanceError.badCase(op: op, problem: "a pooling dilation other than 1 is not supported")
  }
  switch attributes["divisor_override"] {
  case nil, .null?: break
  default: throw ConformanceError.badCase(op: op, problem: "divisor_override is not supported")
  }

  switch op {
  case "conv2d":
    return try conv2d(
      input(0), weight: input(1), bias: tensors.count > 2 ? input(2) : nil,
      stride: pair("stride", default: 1),
      padding: pair("padding", default: 0), dilation: pair("dilation", default: 1),
      groups: integer("groups", default: 1))
  case "conv1d":
    return try conv1d(
      input(0), weight: input(1), bias: tensors.count > 2 ? input(2) : nil,
      stride: integer("stride", default: 1), padding: integer("padding", default: 0),
      dilation: integer("dilation", default: 1), groups: integer("groups", default: 1))
  case "max_pool2d":
    let kernel = try pair("kernel")
    return try maxPool2d(
      input(0), kernelSize: kernel, stride: pair("stride", default: kernel),
      padding: pair("padding", default: 0))
  case "avg_pool2d":
    let kernel = try pair("kernel")
    let includePad: Bool
    switch attributes["count_include_pad"] {
    case nil, .null?: includePad = true
    case .bool(let flag)?: includePad = flag
    default:
      throw ConformanceError.badCase(op: op, problem: "attribute count_include_pad must be true or false")
    }
    return try avgPool2d(
      input(0), kernelSize: kernel, stride: pair("stride", default: kernel),
      padding: pair("padding", default: 0), countIncludePad: includePad)
  case "adaptive_avg_pool2d":
    return try adaptiveAvgPool2d(input(0), outputSize: pair("output_size"))
  case "batch_norm":
    let eps: Double
    switch attributes["eps"] {
    case nil, .null?: eps = 1e-5
    case .number(let value)?: eps = value
    default: throw ConformanceError.badCase(op: op, problem: "attribute eps must be a number")
    }
    guard case .bool(let training)? = attributes["training"] else {
      throw ConformanceError.badCase(op: op, problem: "attribute training must be true or false")
    }
    // Inputs: x, weight, bias, then running_mean and running_var for evaluation.
    if training { return try batchNorm(input(0), weight: input(1), bias: input(2), eps: eps).output }
    return try batchNorm(
      input(0), runningMean: input(3), runningVariance: input(4), weight: input(1), bias: input(2), eps: eps)
  case "flatten":
    return try input(0).flattened(
      startAxis: integer("start_dim", default: 0), endAxis: integer("end_dim", default: -1))
  default: throw ConformanceError.unsupportedOp(op)
  }
}
