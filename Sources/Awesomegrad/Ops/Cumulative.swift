/// Running sums along an axis.
extension Tensor {
  /// The running sum along `axis`: PyTorch's `torch.cumsum`. yᵢ = x₀ + … + xᵢ.
  ///
  /// ∂L/∂xᵢ = Σ_{k ≥ i} ∂L/∂yₖ: the running sum of the gradient taken from the far end.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func cumulativeSum(axis: Int, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let a = normalizeAxis(axis, rank: rank, op: "cumulativeSum", shape: shape, file: file, line: line)
    let size = shape[a]
    let outer = elementCount(Array(shape[..<a])), inner = elementCount(Array(shape[(a + 1)...]))
    // Reads [outer, size, inner]; along the axis, adds the previous row (or the next, reversed).
    let scan = { (source: Storage<Scalar>, reversed: Bool) -> Storage<Scalar> in
      let out = source.copy()
      CPU.cumulativeSum(out.buffer.base, outer: outer, size: size, inner: inner, reversed: reversed)
      return out
    }
    return Tensor(scan(storage, false), op: "cumulativeSum", parents: [self], file: file, line: line) { g, graph in
      // The adjoint of a running sum is the running sum from the other end.
      if let graph { return graph.record { g, _, _ in [g.flipped(axes: [a]).cumulativeSum(axis: a).flipped(axes: [a])] } }
      return [scan(g, true)]
    }
  }
}
