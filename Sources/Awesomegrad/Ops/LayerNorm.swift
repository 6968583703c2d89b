/// Layer normalisation, fused into one primitive: one pass for the statistics, one for the output, and
/// a pullback in closed form instead of a chain of mean, variance and division nodes.
extension Tensor {
  /// The fused layer normalisation behind ``layerNorm(_:normalizedShape:weight:bias:eps:file:line:)``.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func layerNorm(
    normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Double, file: StaticString, line: UInt
  ) -> Tensor {
    let k = normalizedShape.count
    if k == 0 || k > rank || Array(shape.suffix(k)) != normalizedShape {
      shapeFailure(
        "layerNorm", "normalizedShape \(normalizedShape) must be a non-empty suffix of the shape",
        shapes: [shape], file: file, line: line)
    }
    for (name, parameter) in [("weight", weight), ("bias", bias)] where parameter != nil {
      if parameter!.shape != normalizedShape {
        shapeFailure(
          "layerNorm", "the \(name) must have the normalized shape \(normalizedShape)",
          shapes: [shape, parameter!.shape], file: file, line: line)
      }
    }
    let width = elementCount(normalizedShape), rows = width == 0 ? 0 : count / width
    let inputShape = shape
    let normalized = Storage<Scalar>(uninitializedShape: inputShape)
    let inverseDeviations = Storage<Scalar>(uninitializedShape: [rows])
    let out = Storage<Scalar>(uninitializedShape: inputShape)
    let w = weight?.storage, b = bias?.storage
    CPU.layerNormForward(
      storage.buffer.base, weight: w?.buffer.base, bias: b?.buffer.base, eps: Scalar(eps),
      normalized: normalized.buffer.base, inverseDeviations: inverseDeviations.buffer.base,
      into: out.buffer.base, rows: rows, width: width)
    var parents = [self]
    if let weight { parents.append(weight) }
    if let bias { parents.append(bias) }
    let (needX, needW, needB) = (requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
    return Tensor(out, op: "layerNorm", parents: parents, file: file, line: line) { g, graph in
      if let graph {
        // Through the definition: x̂ = (x − μ)/√(σ² + eps) over the normalised axes, then x̂·w + b.
        return graph.recordThrough { p in
          let axes = Array((inputShape.count - k)..<inputShape.count)
          let centered = p[0] - p[0].mean(axes: axes, keepingDimensions: true)
          let variance = (centered * centered).mean(axes: axes, keepingDimensions: true)
          var y = centered / (variance + Scalar(eps)).sqrt()
          if w != nil { y = y * p[1] }
          if b != nil { y = y + p[w != nil ? 2 : 1] }
          return y
        }
      }
      let gx = needX ? Storage<Scalar>(uninitializedShape: inputShape) : nil
      if let gx {
        CPU.layerNormInputGradient(
          g.buffer.base, normalized: normalized.buffer.base, inverseDeviations: inverseDeviations.buffer.base,
          weight: w?.buffer.base, into: gx.buffer.base, rows: rows, width: width)
      }
      let gw = needW ? Storage<Scalar>(uninitializedShape: normalizedShape) : nil
      let gb = needB ? Storage<Scalar>(uninitializedShape: normalizedShape) : nil
      CPU.layerNormParameterGradients(
        g.buffer.base, normalized: normalized.buffer.base, rows: rows, width: width,
        weightGradient: gw?.buffer.base, biasGradient: gb?.buffer.base)
      var grads: [Storage<Scalar>?] = [gx]
      if w != nil { grads.append(gw) }
      if b != nil { grads.append(gb) }
      return grads
    }
  }
}

/// Normalises over the last `normalizedShape.count` axes, then scales and shifts: PyTorch's
/// `F.layer_norm(x, normalized_shape, weight, bias, eps)`. For each row x of D = ∏ normalizedShape
/// elements,
///
///     μ = Σx / D,  σ² = Σ(x − μ)² / D (biased),  r = 1/√(σ² + eps),  x̂ = (x − μ)·r
///     y = x̂ ⊙ weight + bias
///
/// and with ĝ = ∂L/∂y ⊙ weight, the pullback is
///
///     ∂L/∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)),  ∂L/∂weight = Σ_rows ∂L/∂y ⊙ x̂,  ∂L/∂bias = Σ_rows ∂L/∂y.
///
/// A free function, as `F.layer_norm` and this library's ``batchNorm(_:weight:bias:eps:file:line:)``.
///
/// - Parameters:
///   - input: any shape whose trailing sizes are `normalizedShape`.
///   - normalizedShape: the trailing sizes of `input` to normalise over, e.g. `[channels]`.
///   - weight: `normalizedShape`, or nil for 1.
///   - bias: `normalizedShape`, or nil for 0.
///   - eps: added to the variance before the square root.
///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
///   - line: the caller's line.
/// - Returns: the shape of `input`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func layerNorm<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, normalizedShape: [Int], weight: Tensor<Scalar>? = nil, bias: Tensor<Scalar>? = nil,
  eps: Double = 1e-5, file: StaticString = #fileID, line: UInt = #line
) -> Tensor<Scalar> {
  input.layerNorm(normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps, file: file, line: line)
}
