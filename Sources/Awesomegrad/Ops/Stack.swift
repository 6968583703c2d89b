/// Joining tensors of one shape along a new axis.
extension Tensor {
  /// The tensors, all of one shape, joined along a new axis `axis` (0…rank, negative counts from the
  /// end of the result): PyTorch's `torch.stack`. Three `[3, 4]` tensors stacked on axis 1 make
  /// `[3, 3, 4]`.
  ///
  /// Composed: each tensor gains a size-1 axis, and the results are concatenated along it, so
  /// ∂/∂ each input is its slice of the gradient.
  public static func stacked(
    _ tensors: [Tensor], axis: Int = 0, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    guard let first = tensors.first else {
      shapeFailure("stacked", "needs at least one tensor", shapes: [], file: file, line: line)
    }
    if let other = tensors.first(where: { $0.shape != first.shape }) {
      shapeFailure(
        "stacked", "every tensor must have the same shape", shapes: [first.shape, other.shape],
        file: file, line: line)
    }
    let position = normalizeAxis(
      axis, rank: first.rank + 1, op: "stacked", shape: first.shape, file: file, line: line)
    return concatenated(
      tensors.map { $0.unsqueezed(axis: position, file: file, line: line) }, axis: position, file: file,
      line: line)
  }
}
