/// Layer normalisation, fused into one primitive: one pass for the statistics, one for the output, and
/// a pullback in closed form instead of a chain of mean, variance and division nodes.
extension Tensor {
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
  /// - Parameters:
  ///   - normalizedShape: the trailing sizes of `self` to normalise over, e.g. `[channels]`.
  ///   - weight: `normalizedShape`, or nil for 1.
  ///   - bias: `normalizedShape`, or nil for 0.
  ///   - eps: added to the variance before the square root.
  ///   - file: the caller's file (`#fileID`), named in error messages and by anomaly mode.
  ///   - line: the caller's line.
  /// - Returns: the shape of `self`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func layerNorm(
    normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5,
    file: StaticString = #fileID, line: UInt = #line
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
    let x = storage.buffer.base, xhat = normalized.buffer.base, r = inverseDeviations.buffer.base
    let y = out.buffer.base
    let w = weight?.storage, b = bias?.storage
    let pw = w?.buffer.base, pb = b?.buffer.base
    let epsilon = Scalar(eps), n = Scalar(width)
    for row in 0..<rows {
      let xr = x + row * width, hr = xhat + row * width, yr = y + row * width
      var total: Scalar = 0
      for j in 0..<width { total += xr[j] }
      let mean = total / n
      var squares: Scalar = 0
      for j in 0..<width {
        let c = xr[j] - mean
        squares += c * c
      }
      let inverse = 1 / (squares / n + epsilon).squareRoot()
      r[row] = inverse
      for j in 0..<width { hr[j] = (xr[j] - mean) * inverse }
      switch (pw, pb) {
      case let (pw?, pb?): for j in 0..<width { yr[j] = hr[j] * pw[j] + pb[j] }
      case let (pw?, nil): for j in 0..<width { yr[j] = hr[j] * pw[j] }
      case let (nil, pb?): for j in 0..<width { yr[j] = hr[j] + pb[j] }
      case (nil, nil): yr.update(from: hr, count: width)
      }
    }
    var parents = [self]
    if let weight { parents.append(weight) }
    if let bias { parents.append(bias) }
    let (needX, needW, needB) = (requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
    return Tensor(out, op: "layerNorm", parents: parents, file: file, line: line) { g in
      let gs = g.buffer.base, xhat = normalized.buffer.base, r = inverseDeviations.buffer.base
      let pw = w?.buffer.base
      var gx: Storage<Scalar>?
      if needX {
        let grad = Storage<Scalar>(uninitializedShape: inputShape)
        let dst = grad.buffer.base
        for row in 0..<rows {
          let gr = gs + row * width, hr = xhat + row * width, dr = dst + row * width
          // dr holds ĝ = g ⊙ weight first, then the input gradient.
          if let pw {
            for j in 0..<width { dr[j] = gr[j] * pw[j] }
          } else {
            dr.update(from: gr, count: width)
          }
          var sumG: Scalar = 0, sumGX: Scalar = 0
          for j in 0..<width {
            sumG += dr[j]
            sumGX += dr[j] * hr[j]
          }
          let meanG = sumG / n, meanGX = sumGX / n, inverse = r[row]
          for j in 0..<width { dr[j] = inverse * (dr[j] - meanG - hr[j] * meanGX) }
        }
        gx = grad
      }
      var gw: Storage<Scalar>?, gb: Storage<Scalar>?
      if needW {
        let grad = Storage<Scalar>(repeating: 0, shape: normalizedShape)
        let dst = grad.buffer.base
        for row in 0..<rows {
          let gr = gs + row * width, hr = xhat + row * width
          for j in 0..<width { dst[j] += gr[j] * hr[j] }
        }
        gw = grad
      }
      if needB {
        let grad = Storage<Scalar>(repeating: 0, shape: normalizedShape)
        let dst = grad.buffer.base
        for row in 0..<rows {
          let gr = gs + row * width
          for j in 0..<width { dst[j] += gr[j] }
        }
        gb = grad
      }
      var grads: [Storage<Scalar>?] = [gx]
      if w != nil { grads.append(gw) }
      if b != nil { grads.append(gb) }
      return grads
    }
  }
}
