/// Softmax and its relatives, computed stably by shifting by the maximum: with m = max x,
/// log Σ eˣ = m + log Σ e^(x − m), where every exponent is ≤ 0 and cannot overflow.
extension Tensor {
  /// log Σ exp(x) over `axes` (all axes when nil).
  ///
  /// A primitive for stability. d/dxᵢ = exp(xᵢ − y) = softmax(x)ᵢ.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func logSumExp(
    axes: [Int]? = nil, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let inputShape = shape
    let resolved = normalizeAxes(axes, rank: rank, op: "logSumExp", shape: inputShape, file: file, line: line)
    let x = storage
    if resolved == [rank - 1] && inputShape[rank - 1] > 0 {
      // Along the last axis: one fused row kernel each way (CPU+Softmax.swift).
      let columns = inputShape[rank - 1], rows = count / columns
      var keptShape = inputShape
      keptShape[rank - 1] = 1
      let kept = Storage<Scalar>(uninitializedShape: keptShape)
      CPU.logSumExpRows(x.buffer.base, into: kept.buffer.base, rows: rows, columns: columns)
      let outShape = keepingDimensions ? keptShape : Array(inputShape.dropLast())
      return Tensor(kept.reshaped(outShape), op: "logSumExp", parents: [self], file: file, line: line) { g, graph in
        if let graph {
          // ∂/∂x = g·e^(x − y), y broadcast back over the reduced axis.
          return graph.record { g, x, y in
            [g.reshaped(keptShape).expanded(to: inputShape) * (x[0] - y.reshaped(keptShape)).exp()]
          }
        }
        let gx = Storage<Scalar>(uninitializedShape: inputShape)
        CPU.logSumExpBackwardRows(
          g.buffer.base, x.buffer.base, kept.buffer.base, into: gx.buffer.base, rows: rows, columns: columns)
        return [gx]
      }
    }
    let maxima = x.max(keepingAxes: resolved)
    // A row of −∞ (or a reduction over nothing) keeps m = −∞; shift by 0 there to avoid ∞ − ∞.
    let shift = maxima.map { $0.isFinite ? $0 : 0 }
    let shifted = Storage.broadcasting(x, shift, op: "logSumExp") { Scalar.exp($0 - $1) }
    let totals = shifted.sum(keepingAxes: resolved)
    let kept = totals.zipSameShape(shift) { Scalar.log($0) + $1 }
    let outShape = keepingDimensions ? kept.shape : reducedShape(inputShape, removing: resolved)
    return Tensor(kept.reshaped(outShape), op: "logSumExp", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        return graph.record { g, x, y in
          [g.reshaped(kept.shape).expanded(to: inputShape) * (x[0] - y.reshaped(kept.shape)).exp()]
        }
      }
      let upstream = g.reshaped(kept.shape)
      let softmax = Storage.broadcasting(x, kept, op: "logSumExp") { Scalar.exp($0 - $1) }
      return [Storage.broadcasting(softmax, upstream, op: "logSumExp", *)]
    }
  }

  /// log softmax(x) along `axis`: yᵢ = (xᵢ − m) − log Σⱼ e^(xⱼ − m) with m = max x (0 when m is not
  /// finite).  ∂L/∂xᵢ = gᵢ − softmax(x)ᵢ·Σⱼ gⱼ, with softmax(x)ᵢ = e^(yᵢ).
  ///
  /// A primitive, as PyTorch's, rather than x − logSumExp(x): there the large terms cancel only after
  /// rounding. For x = [100000, 100000, 0] in Float, logSumExp = 100000 + ln 2 rounds to 100000.6953
  /// (Float's spacing near 10⁵ is 1/128), so x − logSumExp gave −0.6953 instead of −ln 2 = −0.6931.
  /// Shifting first keeps every difference small. A NaN anywhere along the axis makes the whole
  /// slice NaN; a slice of only −∞ gives NaN (−∞ − log 0), both as PyTorch.
  ///
  /// The rows run on the thread pool (`CPU/Softmax.swift`); along another axis than the last, the
  /// axis is moved last and back.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func logSoftmax(axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let resolved = normalizeAxis(axis, rank: rank, op: "logSoftmax", shape: shape, file: file, line: line)
    if resolved != rank - 1 {
      return transposed(resolved, -1, file: file, line: line).logSoftmax(file: file, line: line)
        .transposed(resolved, -1, file: file, line: line)
    }
    let x = storage, columns = shape[rank - 1], rows = columns == 0 ? 0 : count / columns
    let y = Storage<Scalar>(uninitializedShape: shape)
    CPU.logSoftmaxRows(x.buffer.base, into: y.buffer.base, rows: rows, columns: columns)
    return Tensor(y, op: "logSoftmax", parents: [self], file: file, line: line) { g, graph in
      // ∂/∂x = g − e^y·Σg
      if let graph { return graph.record { g, _, y in [g - y.exp() * g.sum(axes: [-1], keepingDimensions: true)] } }
      let gx = Storage<Scalar>(uninitializedShape: y.shape)
      CPU.logSoftmaxBackwardRows(g.buffer.base, y.buffer.base, into: gx.buffer.base, rows: rows, columns: columns)
      return [gx]
    }
  }

  /// softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m) along `axis`, m = max x: one fused primitive.
  ///
  ///     ∂L/∂xᵢ = yᵢ·(gᵢ − Σⱼ gⱼ·yⱼ)
  ///
  /// Stable for any input: every exponent is ≤ 0. A NaN along the axis makes the slice NaN, and a
  /// slice of only −∞ gives NaN (0/0), as PyTorch. The pullback reads the saved output only.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func softmax(axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let resolved = normalizeAxis(axis, rank: rank, op: "softmax", shape: shape, file: file, line: line)
    if resolved != rank - 1 {
      return transposed(resolved, -1, file: file, line: line).softmax(file: file, line: line)
        .transposed(resolved, -1, file: file, line: line)
    }
    let x = storage, columns = shape[rank - 1], rows = columns == 0 ? 0 : count / columns
    let y = Storage<Scalar>(uninitializedShape: shape)
    CPU.softmaxRows(x.buffer.base, into: y.buffer.base, rows: rows, columns: columns)
    return Tensor(y, op: "softmax", parents: [self], file: file, line: line) { g, graph in
      // ∂/∂x = y·(g − Σ g·y)
      if let graph { return graph.record { g, _, y in [y * (g - (g * y).sum(axes: [-1], keepingDimensions: true))] } }
      let gx = Storage<Scalar>(uninitializedShape: y.shape)
      CPU.softmaxBackwardRows(g.buffer.base, y.buffer.base, into: gx.buffer.base, rows: rows, columns: columns)
      return [gx]
    }
  }
}
