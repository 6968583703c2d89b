/// Softmax and its relatives, computed stably by shifting by the maximum: with m = max x,
/// log Σ eˣ = m + log Σ e^(x − m), where every exponent is ≤ 0 and cannot overflow.
extension Tensor {
  /// log Σ exp(x) over `axes` (all axes when nil).
  ///
  /// A primitive for stability. d/dxᵢ = exp(xᵢ − y) = softmax(x)ᵢ.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func logSumExp(
    axes: [Int]? = nil, keepDims: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let inputShape = shape
    let resolved = normalizeAxes(axes, rank: rank, op: "logSumExp", shape: inputShape, file: file, line: line)
    let x = storage
    let maxima = x.max(keepingAxes: resolved)
    // A row of −∞ (or a reduction over nothing) keeps m = −∞; shift by 0 there to avoid ∞ − ∞.
    let shift = maxima.map { $0.isFinite ? $0 : 0 }
    let shifted = Storage.broadcasting(x, shift, op: "logSumExp") { Scalar.exp($0 - $1) }
    let totals = shifted.sum(keepingAxes: resolved)
    let kept = totals.zipSameShape(shift) { Scalar.log($0) + $1 }
    let outShape = keepDims ? kept.shape : reducedShape(inputShape, removing: resolved)
    return Tensor(kept.reshaped(outShape), op: "logSumExp", parents: [self]) { g in
      let upstream = g.reshaped(kept.shape)
      let softmax = Storage.broadcasting(x, kept, op: "logSumExp") { Scalar.exp($0 - $1) }
      return [Storage.broadcasting(softmax, upstream, op: "logSumExp", *)]
    }
  }

  /// log softmax(x) along `axis`: x − logSumExp(x) over that axis, composed from the stable
  /// ``logSumExp(axes:keepDims:file:line:)``.
  public func logSoftmax(axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    self - logSumExp(axes: [axis], keepDims: true, file: file, line: line)
  }

  /// softmax(x)ᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along `axis`, as exp(logSoftmax(x)): stable for any input.
  public func softmax(axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    logSoftmax(axis: axis, file: file, line: line).exp()
  }
}
