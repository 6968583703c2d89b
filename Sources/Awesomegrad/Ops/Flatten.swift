/// Flattening a range of axes into one, as `torch.flatten`.
extension Tensor {
  /// The same elements with axes `startAxis...endAxis` merged into one axis of their product's size,
  /// like `torch.flatten(x, start_dim, end_dim)`. Negative axes count from the end; the defaults
  /// flatten everything into one axis (a scalar becomes `[1]`). `nn.Flatten` uses `startAxis: 1`,
  /// which turns `[batch, channels, height, width]` into `[batch, channels·height·width]`.
  /// A view composed from ``reshaped(_:file:line:)``: ∂x is the gradient reshaped back.
  public func flattened(
    startAxis: Int = 0, endAxis: Int = -1, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    if rank == 0 { return reshaped([1], file: file, line: line) }
    let start = normalizeAxis(startAxis, rank: rank, op: "flattened", shape: shape, file: file, line: line)
    let end = normalizeAxis(endAxis, rank: rank, op: "flattened", shape: shape, file: file, line: line)
    if start > end {
      shapeFailure(
        "flattened", "startAxis (\(startAxis)) comes after endAxis (\(endAxis))", shapes: [shape], file: file,
        line: line)
    }
    let merged = shape[start...end].reduce(1, *)
    let newShape = Array(shape[..<start]) + [merged] + Array(shape[(end + 1)...])
    return reshaped(newShape, file: file, line: line)
  }
}
