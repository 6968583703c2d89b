// Public access to a tensor's accumulated gradient buffer, for code outside the library that must
// read or rewrite gradients in place between `backward()` and `optimizer.step()`: averaging them
// across processes (AwesomegradDistributed), clipping, or a custom optimizer.
//
// The gradient of a leaf may share its buffer with another storage (a pullback can hand the same
// upstream gradient to two inputs, and `grad` wraps the buffer without copying). A write therefore
// goes through copy-on-write: the buffer is copied first unless this tensor holds the only reference.

extension Tensor {
  /// Calls `body` with the accumulated gradient's elements (row-major, ``count`` of them), read-only,
  /// without copying. Returns nil, without calling `body`, when there is no gradient yet.
  ///
  /// The pointer is valid only inside `body`.
  @_specialize(where Scalar == Float, R == Void)
  @_specialize(where Scalar == Double, R == Void)
  public func withGradient<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R? {
    guard let gradient = gradStorage else { return nil }
    return try withExtendedLifetime(gradient) {
      try body(UnsafeBufferPointer(start: gradient.buffer.base, count: gradient.count))
    }
  }

  /// Calls `body` with the accumulated gradient's elements for writing in place (row-major, ``count``
  /// of them). Returns nil, without calling `body`, when there is no gradient yet.
  ///
  /// When another storage or a tensor returned by ``grad`` shares the gradient's buffer, the buffer
  /// is copied first, so that the write changes this tensor's gradient only. The pointer is valid
  /// only inside `body`.
  @_specialize(where Scalar == Float, R == Void)
  @_specialize(where Scalar == Double, R == Void)
  public func withGradientBuffer<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R? {
    guard var gradient = gradStorage else { return nil }
    gradStorage = nil  // drop our reference so the uniqueness check sees only `gradient`
    if !isKnownUniquelyReferenced(&gradient.buffer) { gradient = gradient.copy() }
    gradStorage = gradient
    return try withExtendedLifetime(gradient) {
      try body(UnsafeMutableBufferPointer(start: gradient.buffer.base, count: gradient.count))
    }
  }

  /// Replaces the accumulated gradient with `gradient`'s values (shared, not copied), or clears it
  /// when `gradient` is nil (as ``zeroGrad()`` does).
  ///
  /// - Parameters:
  ///   - gradient: a tensor of this tensor's shape; its graph, if any, is ignored.
  ///   - file: the caller's file (`#fileID`), named in error messages.
  ///   - line: the caller's line.
  /// - Precondition: `gradient.shape == shape`; otherwise stops with a message naming the shapes.
  public func setGradient(_ gradient: Tensor?, file: StaticString = #fileID, line: UInt = #line) {
    guard let gradient else {
      gradStorage = nil
      return
    }
    if gradient.shape != shape {
      shapeFailure(
        "setGradient", "the gradient must have the tensor's shape", shapes: [shape, gradient.shape],
        file: file, line: line)
    }
    gradStorage = gradient.storage
  }

  /// Sets the accumulated gradient to `values` (row-major, ``count`` of them), in a new buffer.
  ///
  /// - Precondition: `values.count == count`; otherwise stops with a message naming the counts.
  public func setGradient(_ values: [Scalar], file: StaticString = #fileID, line: UInt = #line) {
    if values.count != count {
      shapeFailure(
        "setGradient", "got \(values.count) values for a tensor of \(count) elements", shapes: [shape],
        file: file, line: line)
    }
    gradStorage = values.isEmpty ? Storage(repeating: 0, shape: shape) : Storage(values, shape: shape)
  }
}
