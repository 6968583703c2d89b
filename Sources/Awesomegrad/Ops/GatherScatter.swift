/// Gathering and scatter-adding elements at flat offsets: the pair of linear ops, each the other's
/// adjoint, through which the gradients of indexing, slicing and max-pooling are recorded under
/// `createGraph` (see `Autograd/GradientGraph.swift`). Not public: the public indexing ops keep their
/// own fused kernels for the ordinary backward pass.
extension Tensor {
  /// out[n] = x[offsets[n]] (row-major offsets into `self`), of shape `shape`.
  /// ∂/∂x scatter-adds g back to the offsets.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func gatheringElements(at offsets: [Int], shape outShape: [Int]) -> Tensor {
    let inputShape = shape
    let out = Storage<Scalar>(uninitializedShape: outShape)
    offsets.withUnsafeBufferPointer { offsets in
      CPU.gatherElements(storage.buffer.base, offsets: offsets, into: out.buffer.base)
    }
    return Tensor(out, op: "gatherElements", parents: [self]) { g, graph in
      if let graph {
        return graph.record { g, _, _ in [g.scatteringElements(at: offsets, shape: inputShape)] }
      }
      let grad = Storage<Scalar>(repeating: 0, shape: inputShape)
      offsets.withUnsafeBufferPointer { offsets in
        CPU.scatterAddElements(g.buffer.base, offsets: offsets, into: grad.buffer.base)
      }
      return [grad]
    }
  }

  /// A zero tensor of `shape` with x[n] added at offsets[n] (repeats add up).
  /// ∂/∂x gathers g at the offsets.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func scatteringElements(at offsets: [Int], shape outShape: [Int]) -> Tensor {
    let inputShape = shape
    let out = Storage<Scalar>(repeating: 0, shape: outShape)
    offsets.withUnsafeBufferPointer { offsets in
      CPU.scatterAddElements(storage.buffer.base, offsets: offsets, into: out.buffer.base)
    }
    return Tensor(out, op: "scatterAddElements", parents: [self]) { g, graph in
      if let graph {
        return graph.record { g, _, _ in [g.gatheringElements(at: offsets, shape: inputShape)] }
      }
      let grad = Storage<Scalar>(uninitializedShape: inputShape)
      offsets.withUnsafeBufferPointer { offsets in
        CPU.gatherElements(g.buffer.base, offsets: offsets, into: grad.buffer.base)
      }
      return [grad]
    }
  }
}

/// The row-major offsets, in a tensor of `shape`, of the elements of `[outer, rows.count, inner]`
/// that take row `rows[j]` of `[outer, size, inner]`: the offsets of an index select along an axis.
func rowOffsets(_ rows: [Int], outer: Int, size: Int, inner: Int) -> [Int] {
  var offsets: [Int] = []
  offsets.reserveCapacity(outer * rows.count * inner)
  for o in 0..<outer {
    for row in rows {
      let start = (o * size + row) * inner
      for i in 0..<inner { offsets.append(start + i) }
    }
  }
  return offsets
}
