/// Views with another shape. The values are shared, not copied.
extension Tensor {
  /// The same elements with shape `newShape`; one axis may be −1 and is inferred.
  /// ∂/∂x is the gradient reshaped back.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func reshaped(_ newShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    var resolved = newShape
    let inferred = newShape.indices.filter { newShape[$0] == -1 }
    if inferred.count > 1 || newShape.contains(where: { $0 < -1 }) {
      shapeFailure("reshape", "invalid target shape \(newShape)", shapes: [shape], file: file, line: line)
    }
    if let axis = inferred.first {
      let known = newShape.reduce(1) { $1 == -1 ? $0 : $0 * $1 }
      if known == 0 || count % known != 0 {
        shapeFailure("reshape", "cannot infer axis of \(newShape)", shapes: [shape], file: file, line: line)
      }
      resolved[axis] = count / known
    }
    if elementCount(resolved) != count {
      shapeFailure(
        "reshape", "element counts differ (\(count) vs \(elementCount(resolved)))", shapes: [shape, resolved],
        file: file, line: line)
    }
    let inputShape = shape
    return Tensor(storage.reshaped(resolved), parents: [self]) { g in [g.reshaped(inputShape)] }
  }
}
