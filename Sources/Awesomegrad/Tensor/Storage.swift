/// A shaped, contiguous, row-major array of scalars with no autograd: the values a ``Tensor`` holds
/// and the gradients its pullbacks compute.
///
/// `Storage` is what pullbacks do their arithmetic on, so the backward pass never records a graph.
/// It is a value type over a shared `Buffer`: copies share memory, and nothing mutates a buffer
/// that another storage can see, except optimizer updates of parameters, which are in place by design.
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

  /// A storage whose elements the caller must write before reading.
  init(uninitializedShape shape: [Int]) {
    self.init(shape: shape, buffer: Buffer.make(uninitializedCount: elementCount(shape)))
  }

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
    out.buffer.base.initialize(from: buffer.base, count: count)
    return out
  }

  // MARK: Elementwise kernels

  /// `f` applied to every element.
  @inline(__always)
  func map(_ f: (Scalar) -> Scalar) -> Storage {
    let out = Storage(uninitializedShape: shape)
    let src = buffer.base, dst = out.buffer.base
    for i in 0..<count { dst[i] = f(src[i]) }
    return out
  }

  /// `f` applied to pairs of elements of two storages of the same shape.
  @inline(__always)
  func zipSameShape(_ other: Storage, _ f: (Scalar, Scalar) -> Scalar) -> Storage {
    let out = Storage(uninitializedShape: shape)
    let a = buffer.base, b = other.buffer.base, dst = out.buffer.base
    for i in 0..<count { dst[i] = f(a[i], b[i]) }
    return out
  }

  /// `f` applied to the elements of two storages broadcast against each other (numpy's rule).
  /// `op` names the caller in the error when the shapes do not broadcast.
  @inline(__always)
  static func broadcasting(
    _ a: Storage, _ b: Storage, op: String, file: StaticString = #fileID, line: UInt = #line,
    _ f: (Scalar, Scalar) -> Scalar
  ) -> Storage {
    if a.shape == b.shape { return a.zipSameShape(b, f) }
    guard let shape = broadcastShape(a.shape, b.shape) else {
      shapeFailure(op, "shapes do not broadcast", shapes: [a.shape, b.shape], file: file, line: line)
    }
    let out = Storage(uninitializedShape: shape)
    let pa = a.buffer.base, pb = b.buffer.base, dst = out.buffer.base
    let n = out.count
    if b.count == 1 {
      let y = pb[0]
      if a.count == n {
        for i in 0..<n { dst[i] = f(pa[i], y) }
        return out
      }
    }
    if a.count == 1 && b.count == n {
      let x = pa[0]
      for i in 0..<n { dst[i] = f(x, pb[i]) }
      return out
    }
    // Fast path for a row repeated over leading axes, such as a bias: [.., n] op [n].
    if a.count == n && isSuffixBroadcast(b.shape, of: shape) {
      let inner = b.count
      var o = 0
      while o < n {
        for j in 0..<inner { dst[o + j] = f(pa[o + j], pb[j]) }
        o += inner
      }
      return out
    }
    if b.count == n && isSuffixBroadcast(a.shape, of: shape) {
      let inner = a.count
      var o = 0
      while o < n {
        for j in 0..<inner { dst[o + j] = f(pa[j], pb[o + j]) }
        o += inner
      }
      return out
    }
    // General case: walk the output in row-major order, reading each input through strides that
    // are 0 along its broadcast axes.
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    forEachBroadcastRow(shape: shape, sa, sb) { offsetA, offsetB, outOffset, length, strideA, strideB in
      for j in 0..<length { dst[outOffset + j] = f(pa[offsetA + j * strideA], pb[offsetB + j * strideB]) }
    }
    return out
  }

  // MARK: Reductions

  /// The sum over `axes` (sorted, unique), with each reduced axis kept as size 1.
  func sum(keepingAxes axes: [Int]) -> Storage { reduce(keepingAxes: axes, initial: 0, +) }

  /// The maximum over `axes` (sorted, unique), with each reduced axis kept as size 1.
  func max(keepingAxes axes: [Int]) -> Storage {
    reduce(keepingAxes: axes, initial: -.infinity) { Swift.max($0, $1) }
  }

  /// Reduces `axes` one at a time with `combine`; each step reads `[outer, size, inner]` and writes
  /// `[outer, 1, inner]`.
  @inline(__always)
  func reduce(
    keepingAxes axes: [Int], initial: Scalar, _ combine: (Scalar, Scalar) -> Scalar
  ) -> Storage {
    var current = self
    for axis in axes { current = current.reduceAxis(axis, initial: initial, combine) }
    return current
  }

  /// Reduces one axis with `combine`, keeping it as size 1. Reads the storage as
  /// `[outer, size, inner]` and writes `[outer, 1, inner]`.
  @inline(__always)
  func reduceAxis(_ axis: Int, initial: Scalar, _ combine: (Scalar, Scalar) -> Scalar) -> Storage {
    let size = shape[axis]
    var outer = 1, inner = 1
    for i in 0..<axis { outer &*= shape[i] }
    for i in (axis + 1)..<shape.count { inner &*= shape[i] }
    var outShape = shape
    outShape[axis] = 1
    let out = Storage(uninitializedShape: outShape)
    let src = buffer.base, dst = out.buffer.base
    for o in 0..<outer {
      let srcBase = src + o * size * inner, dstRow = dst + o * inner
      if inner == 1 {
        // Reducing the last axis: one running value per output element.
        var acc = initial
        for r in 0..<size { acc = combine(acc, srcBase[r]) }
        dstRow[0] = acc
        continue
      }
      dstRow.initialize(repeating: initial, count: inner)
      for r in 0..<size {
        let row = srcBase + r * inner
        for i in 0..<inner { dstRow[i] = combine(dstRow[i], row[i]) }
      }
    }
    return out
  }

  /// The sum of all elements.
  func sumAll() -> Scalar {
    var s: Scalar = 0
    let p = buffer.base
    for i in 0..<count { s += p[i] }
    return s
  }
}

/// Whether `small`, stripped of leading 1s, equals the trailing axes of `shape`: it then repeats as one
/// contiguous block over the leading axes.
@inline(__always)
func isSuffixBroadcast(_ small: [Int], of shape: [Int]) -> Bool {
  var start = 0
  while start < small.count && small[start] == 1 { start += 1 }
  let trimmed = small[start...]
  guard trimmed.count <= shape.count else { return false }
  return shape[(shape.count - trimmed.count)...].elementsEqual(trimmed)
}

/// Calls `body` once per innermost row of the output of `shape`, with the element offsets of the two
/// inputs and the output, the row length, and the inputs' strides along the last axis.
@inline(__always)
func forEachBroadcastRow(
  shape: [Int], _ sa: [Int], _ sb: [Int],
  _ body: (_ offsetA: Int, _ offsetB: Int, _ outOffset: Int, _ length: Int, _ strideA: Int, _ strideB: Int) ->
    Void
) {
  let rank = shape.count
  let length = shape[rank - 1]
  let rows = elementCount(shape) / max(length, 1)
  var index = [Int](repeating: 0, count: rank)
  var offsetA = 0, offsetB = 0
  for row in 0..<rows {
    body(offsetA, offsetB, row * length, length, sa[rank - 1], sb[rank - 1])
    // Odometer over the leading axes.
    var axis = rank - 2
    while axis >= 0 {
      index[axis] += 1
      offsetA += sa[axis]
      offsetB += sb[axis]
      if index[axis] < shape[axis] { break }
      offsetA -= sa[axis] * shape[axis]
      offsetB -= sb[axis] * shape[axis]
      index[axis] = 0
      axis -= 1
    }
  }
}
