/// Owns one contiguous allocation of scalars. Freed when the last ``Storage`` that refers to it goes.
///
/// A class, so that reshapes and detached copies share memory; mutation in place is only done by the
/// engine when the buffer is uniquely referenced (gradient accumulation) or on purpose (optimizer
/// updates of parameters).
final class Buffer<Scalar: TensorScalar> {
  let base: UnsafeMutablePointer<Scalar>
  let count: Int

  /// Uninitialised memory for `count` scalars; the caller writes every element.
  init(uninitializedCount count: Int) {
    self.count = count
    base = .allocate(capacity: max(count, 1))
  }

  init(repeating value: Scalar, count: Int) {
    self.count = count
    base = .allocate(capacity: max(count, 1))
    base.initialize(repeating: value, count: count)
  }

  deinit { base.deallocate() }
}
