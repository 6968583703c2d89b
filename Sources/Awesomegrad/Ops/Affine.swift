/// The affine map of a linear layer as one op, PyTorch's `F.linear` (BLAS's addmm):
///
///     y = x·Wᵀ + b        x: [..., in], W: [out, in], b: [out]  →  y: [..., out]
///     ∂x = G·W,  ∂W = Gᵀ·x,  ∂b = unbroadcast(G) = Σ_rows G   (G: [..., out], leading axes as rows)
///
/// The forward pass writes b into every row of y and lets gemm add x·Wᵀ to it (β = 1), so the bias
/// costs one write of y instead of a separate broadcast add (a second pass over y and another
/// buffer): the profile of the `charlm` step put that add at 3% of the step.
extension Tensor {
  /// x·Wᵀ + b for `self` `[..., in]`, `weight` `[out, in]` and `bias` `[out]`: `[..., out]`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func linear(
    weight: Tensor, bias: Tensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    guard rank >= 1, weight.rank == 2, shape[rank - 1] == weight.shape[1], bias.shape == [weight.shape[0]]
    else {
      shapeFailure(
        "linear", "expects x [..., in], weight [out, in] and bias [out]",
        shapes: [shape, weight.shape, bias.shape], file: file, line: line)
    }
    let (outputs, inputs) = (weight.shape[0], weight.shape[1])
    let leading = Array(shape.dropLast())
    let rows = elementCount(leading)
    let (x, w, b) = (storage, weight.storage, bias.storage)
    let y = Storage<Scalar>(uninitializedShape: leading + [outputs])
    if y.count > 0 {
      CPU.repeatRow(b.buffer.base, into: y.buffer.base, rows: rows, width: outputs)
      if inputs > 0 {
        BLAS.gemm(
          transposeA: false, transposeB: true, m: rows, n: outputs, k: inputs, alpha: 1, a: x.buffer.base,
          lda: inputs, b: w.buffer.base, ldb: inputs, beta: 1, c: y.buffer.base, ldc: outputs)
      }
    }
    let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias.requiresGrad)
    return Tensor(y, op: "linear", parents: [self, weight, bias], file: file, line: line) { g in
      let g2 = g.reshaped([rows, outputs])
      let gx = needX ? batchedProduct(g2, w, false, false)!.reshaped(x.shape) : nil
      let gw = needW ? batchedProduct(g2, x.reshaped([rows, inputs]), true, false)! : nil
      let gb = needB ? unbroadcast(g, to: b.shape) : nil  // b was broadcast over the rows
      return [gx, gw, gb]
    }
  }
}
