/// The spellings before reductions and selections agreed on `keepingDimensions` (PyTorch's
/// `keepdim`), kept for one release where the documentation used them.
extension Tensor {
  /// Σ over `axes`: the earlier spelling of ``sum(axes:keepingDimensions:file:line:)``.
  @available(*, deprecated, renamed: "sum(axes:keepingDimensions:file:line:)")
  public func sum(
    axes: [Int]? = nil, keepDims: Bool, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    sum(axes: axes, keepingDimensions: keepDims, file: file, line: line)
  }
}
