/// The affine map of a linear layer as one op, PyTorch's `F.linear` (BLAS's addmm):
///
///     y = x·Wᵀ + b        x: [..., in], W: [out, in], b: [out]  →  y: [..., out]
///     ∂x = G·W,  ∂W = Gᵀ·x,  ∂b = unbroadcast(G) = Σ_rows G   (G: [..., out], leading axes as rows)
///
/// and the same map with the weight stored the other way round, `[in, out]`, as GPT-2's `Conv1D`
/// keeps it (`torch.addmm(b, x, W)`):
///
///     y = x·W + b         W: [in, out]   ∂x = G·Wᵀ,  ∂W = xᵀ·G
///
/// Either way the weight is read where it lies: gemm takes the transpose as a flag, never a copy.
/// The forward pass writes b into every row of y and lets gemm add the product to it (β = 1), so the
/// bias costs one write of y instead of a separate broadcast add (a second pass over y and another
/// buffer): the profile of the `charlm` step put that add at 3% of the step.
extension Tensor {
  /// x·Wᵀ + b for `self` `[..., in]`, `weight` `[out, in]` and `bias` `[out]`: `[..., out]`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func linear(
    weight: Tensor, bias: Tensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    affine(weight: weight, bias: bias, inputsFirst: false, file: file, line: line)
  }

  /// x·W + b for `self` `[..., in]`, `weight` `[in, out]` and `bias` `[out]`: `[..., out]`. The
  /// layout of GPT-2's `Conv1D` weights, used as they are stored.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func linear(
    transposedWeight weight: Tensor, bias: Tensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    affine(weight: weight, bias: bias, inputsFirst: true, file: file, line: line)
  }

  /// The two layouts: `inputsFirst` for a weight `[in, out]`.
  @inline(__always)
  private func affine(
    weight: Tensor, bias: Tensor, inputsFirst: Bool, file: StaticString, line: UInt
  ) -> Tensor {
    let (inAxis, outAxis) = inputsFirst ? (0, 1) : (1, 0)
    guard rank >= 1, weight.rank == 2, shape[rank - 1] == weight.shape[inAxis],
      bias.shape == [weight.shape[outAxis]]
    else {
      shapeFailure(
        "linear",
        inputsFirst
          ? "expects x [..., in], a transposed weight [in, out] and bias [out]"
          : "expects x [..., in], weight [out, in] and bias [out]",
        shapes: [shape, weight.shape, bias.shape], file: file, line: line)
    }
    let (outputs, inputs) = (weight.shape[outAxis], weight.shape[inAxis])
    let leading = Array(shape.dropLast())
    let rows = elementCount(leading)
    let (x, w, b) = (storage, weight.storage, bias.storage)
    let y = Storage<Scalar>(uninitializedShape: leading + [outputs])
    if y.count > 0 {
      CPU.repeatRow(b.buffer.base, into: y.buffer.base, rows: rows, width: outputs)
      if inputs > 0 {
        BLAS.gemm(
          transposeA: false, transposeB: !inputsFirst, m: rows, n: outputs, k: inputs, alpha: 1,
          a: x.buffer.base, lda: inputs, b: w.buffer.base, ldb: inputsFirst ? outputs : inputs, beta: 1,
          c: y.buffer.base, ldc: outputs)
      }
    }
    let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias.requiresGrad)
    return Tensor(y, op: "linear", parents: [self, weight, bias], file: file, line: line) { g, graph in
      if let graph {
        return graph.record { g, p, _ in
          // As matrices (no node when they already are).
          let g2 = g.rank == 2 ? g : g.reshaped([rows, outputs])
          let x2 = p[0].rank == 2 ? p[0] : p[0].reshaped([rows, inputs])
          return [
            graph.wants(0) ? g2.matmul(p[1], transposeB: inputsFirst).reshapedIfNeeded(x.shape) : nil,
            graph.wants(1) ? (inputsFirst ? x2.matmul(g2, transposeA: true) : g2.matmul(x2, transposeA: true)) : nil,
            graph.wants(2) ? g.summed(to: b.shape) : nil,
          ]
        }
      }
      let g2 = g.reshaped([rows, outputs])
      let x2 = x.reshaped([rows, inputs])
      let gx = needX ? batchedProduct(g2, w, false, inputsFirst)!.reshaped(x.shape) : nil
      let gw = needW ? (inputsFirst ? batchedProduct(x2, g2, true, false)! : batchedProduct(g2, x2, true, false)!) : nil
      let gb = needB ? unbroadcast(g, to: b.shape) : nil  // b was broadcast over the rows
      return [gx, gw, gb]
    }
  }
}
