/// Owns one contiguous run of scalars, stored inline after the object header (one allocation per
/// buffer, not two). Freed when the last ``Storage`` that refers to it goes.
///
/// A class, so that reshapes and detached copies share memory; mutation in place is only done by the
/// engine when the buffer is uniquely referenced (gradient accumulation) or on purpose (optimizer
/// updates of parameters).
final class Buffer<Scalar: TensorScalar>: ManagedBuffer<BufferHeader, Scalar> {
  /// Uninitialised memory for `count` scalars; the caller writes every element.
  @inline(__always)
  static func make(uninitializedCount count: Int) -> Buffer {
    unsafeDowncast(
      Buffer.create(minimumCapacity: count) { _ in BufferHeader(count: count, version: 0) }, to: Buffer.self)
  }

  static func make(repeating value: Scalar, count: Int) -> Buffer {
    let buffer = make(uninitializedCount: count)
    CPU.fill(buffer.base, with: value, count: count)
    return buffer
  }

  /// The number of scalars.
  @inline(__always) var count: Int { header.count }

  /// How many times the values were changed in place (``Tensor/updateValues(_:)``); PyTorch's
  /// version counter. A graph node remembers the versions of what its pullback reads, and backward
  /// stops if they changed in between.
  @inline(__always) var version: Int {
    get { header.version }
    set { header.version = newValue }
  }

  /// The first scalar. Valid for as long as the buffer is alive.
  @inline(__always) var base: UnsafeMutablePointer<Scalar> { withUnsafeMutablePointerToElements { $0 } }
}

/// The header stored in front of a ``Buffer``'s scalars.
struct BufferHeader {
  /// The number of scalars.
  let count: Int
  /// The in-place modification count (see ``Buffer/version``).
  var version: Int
}
