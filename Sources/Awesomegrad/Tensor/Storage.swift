/// A shaped, contiguous, row-major array of scalars with no autograd: the values a ``Tensor`` holds
/// and the gradients its pullbacks compute.
///
/// `Storage` is what pullbacks do their arithmetic on, so the backward pass never records a graph.
/// It is a value type over a shared `Buffer`: copies share memory, and nothing mutates a buffer
/// that another storage can see, except optimizer updates of parameters, which are in place by design.
///
/// This file holds the memory and the shape only; the loops over the values are the CPU kernels in
/// `CPU/` (with the `Storage` methods that call them next to each kernel).
public struct Storage<Scalar: TensorScalar> {
  /// The sizes of the axes; `[]` for a scalar.
  public let shape: [Int]
  /// `var` only so that `isKnownUniquelyReferenced` can inspect it; never reassigned.
  var buffer: Buffer<Scalar>

  /// The number of elements.
  @inline(__always) public var count: Int { buffer.count }

  init(shape: [Int], buffer: Buffer<Scalar>) {
    self.shape = shape
    self.buffer = buffer
  }

  /// A storage whose elements the caller must write before reading (`package`: the models' KV cache
  /// allocates a whole context this way, so that pages it never reaches cost no memory).
  package init(uninitializedShape shape: [Int]) {
    self.init(shape: shape, buffer: Buffer.make(uninitializedCount: elementCount(shape)))
  }

  /// The first element, for the package's other libraries that fill an uninitialised storage
  /// through a kernel (`package`).
  package var baseAddress: UnsafeMutablePointer<Scalar> { buffer.base }

  /// A storage of `shape` with every element equal to `value`.
  public init(repeating value: Scalar, shape: [Int]) {
    self.init(shape: shape, buffer: Buffer.make(repeating: value, count: elementCount(shape)))
  }

  /// A storage of `shape` over `values` in row-major order; `values.count` must equal the shape's
  /// element count.
  public init(_ values: [Scalar], shape: [Int]) {
    if elementCount(shape) != values.count {
      shapeFailure("Storage(_:shape:)", "\(values.count) scalars do not fill the shape", shapes: [shape],
        file: #fileID, line: #line)
    }
    let buffer = Buffer<Scalar>.make(uninitializedCount: values.count)
    values.withUnsafeBufferPointer { buffer.base.initialize(from: $0.baseAddress!, count: values.count) }
    self.init(shape: shape, buffer: buffer)
  }

  /// The same elements viewed with another shape of equal element count; shares memory.
  @inline(__always) func reshaped(_ newShape: [Int]) -> Storage {
    Storage(shape: newShape, buffer: buffer)
  }

  /// The elements in row-major order.
  public var scalars: [Scalar] { Array(UnsafeBufferPointer(start: buffer.base, count: count)) }

  /// A storage of `shape` whose elements `initializer` writes, every one of them, through a pointer:
  /// the way to build values in a custom op without an intermediate array. (Specialised, so that a
  /// client's call does not clear the buffer one element at a time through generic code.)
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public init(shape: [Int], initializingWith initializer: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
    self.init(uninitializedShape: shape)
    buffer.base.initialize(repeating: 0, count: count)
    initializer(UnsafeMutableBufferPointer(start: buffer.base, count: count))
  }

  /// Calls `body` with the elements in row-major order.
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: buffer.base, count: count))
  }

  /// `f` applied to every element (for custom ops).
  public func mapped(_ f: (Scalar) -> Scalar) -> Storage { map(f) }

  /// `f` applied to pairs of elements of two storages broadcast against each other (for custom ops).
  public func zip(_ other: Storage, _ f: (Scalar, Scalar) -> Scalar) -> Storage {
    Storage.broadcasting(self, other, op: "Storage.zip", f)
  }

  /// A copy with its own buffer.
  public func copy() -> Storage {
    let out = Storage(uninitializedShape: shape)
    CPU.copy(buffer.base, into: out.buffer.base, count: count)
    return out
  }
}
