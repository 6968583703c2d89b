/// The lower and upper triangles of matrices, batched over leading axes.
extension Tensor {
  /// The elements on and below diagonal `diagonal` of the last two axes, zeros elsewhere: PyTorch's
  /// `torch.tril`. Element (i, j) is kept when j − i ≤ `diagonal`; 0 is the main diagonal, positive
  /// values are above it.
  ///
  /// ∂/∂x is the gradient with the same triangle kept.
  public func lowerTriangle(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    keepingTriangle(op: "lowerTriangle", file: file, line: line) { row, column in column - row <= diagonal }
  }

  /// The elements on and above diagonal `diagonal` of the last two axes, zeros elsewhere: PyTorch's
  /// `torch.triu`. Element (i, j) is kept when j − i ≥ `diagonal`.
  ///
  /// ∂/∂x is the gradient with the same triangle kept.
  public func upperTriangle(diagonal: Int = 0, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    keepingTriangle(op: "upperTriangle", file: file, line: line) { row, column in column - row >= diagonal }
  }

  /// The elements (i, j) of each matrix in the last two axes for which `keeps(i, j)`, zeros elsewhere.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func keepingTriangle(
    op: StaticString, file: StaticString, line: UInt, _ keeps: @escaping (Int, Int) -> Bool
  ) -> Tensor {
    if rank < 2 {
      shapeFailure("\(op)", "needs at least two axes", shapes: [shape], file: file, line: line)
    }
    let rows = shape[rank - 2], columns = shape[rank - 1]
    let apply = { (source: Storage<Scalar>) -> Storage<Scalar> in
      let out = Storage<Scalar>(uninitializedShape: source.shape)
      CPU.keepTriangle(
        source.buffer.base, into: out.buffer.base, matrices: source.count / Swift.max(rows * columns, 1),
        rows: rows, columns: columns, keeps)
      return out
    }
    return Tensor(apply(storage), op: op, parents: [self]) { g, graph in
      if let graph {
        // Linear: g times the constant 0/1 triangle.
        let kept = Tensor(apply(Storage(repeating: 1, shape: g.shape)))
        return graph.record { g, _, _ in [g * kept] }
      }
      return [apply(g)]
    }
  }
}
