/// Elementwise kernels: one function of one or two inputs per element, with numpy broadcasting, over
/// the library's thread pool.
///
/// The kernels (`CPU.map`, `CPU.zip`, …) are loops over pointers and sizes with no autograd; the
/// `Storage` methods below allocate an output and call them, and are what the ops in `Ops/` use.
/// Each element's result depends on that element alone, so every split over threads gives the same
/// bits: these loops use ``parallelFor(_:grain:_:)``.

/// The CPU kernels: plain loops over buffers and sizes, split over the library's thread pool above
/// their grain (see `docs/DESIGN.md`, "Kernels"). Nothing here knows about autograd. `package`, so that
/// the package's other libraries reach the few kernels marked `package` (the data sets' batch gather).
package enum CPU {
  /// The grain of a cheap elementwise loop (a load, an add or a multiply, a store): about 32 Ki
  /// elements, PyTorch's `at::internal::GRAIN_SIZE`. Below it a loop runs inline on the caller.
  static let elementwiseGrain = 32_768
  /// The grain of a loop with a transcendental function per element (exp, erf, tanh: tens of
  /// operations each).
  static let transcendentalGrain = 4_096
}

extension CPU {
  /// y[i] = f(x[i]) for i < count.
  @inline(__always)
  static func map<T>(
    _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count: Int, grain: Int = elementwiseGrain,
    _ f: (T) -> T
  ) {
    parallelFor(0..<count, grain: grain) { piece in
      for i in piece { y[i] = f(x[i]) }
    }
  }

  /// y[i] = f(a[i], b[i]) for i < count.
  @inline(__always)
  static func zip<T>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count: Int,
    grain: Int = elementwiseGrain, _ f: (T, T) -> T
  ) {
    parallelFor(0..<count, grain: grain) { piece in
      for i in piece { y[i] = f(a[i], b[i]) }
    }
  }

  /// y[i] = f(a[i], b) for i < count.
  @inline(__always)
  static func zip<T>(
    _ a: UnsafePointer<T>, scalar b: T, into y: UnsafeMutablePointer<T>, count: Int,
    grain: Int = elementwiseGrain, _ f: (T, T) -> T
  ) {
    parallelFor(0..<count, grain: grain) { piece in
      for i in piece { y[i] = f(a[i], b) }
    }
  }

  /// y[i] = f(a, b[i]) for i < count.
  @inline(__always)
  static func zip<T>(
    scalar a: T, _ b: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count: Int,
    grain: Int = elementwiseGrain, _ f: (T, T) -> T
  ) {
    parallelFor(0..<count, grain: grain) { piece in
      for i in piece { y[i] = f(a, b[i]) }
    }
  }

  /// y[r·n + j] = f(a[r·n + j], b[j]) for `rows` rows of n = `width` (`rowFirst`), or
  /// f(b[j], a[r·n + j]) when not: a row `b` repeated over the leading axes, such as a bias.
  @inline(__always)
  static func zipRows<T>(
    _ a: UnsafePointer<T>, row b: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, rows: Int, width: Int,
    rowFirst: Bool, grain: Int = elementwiseGrain, _ f: (T, T) -> T
  ) {
    parallelFor(0..<rows, grain: Swift.max(1, grain / Swift.max(width, 1))) { piece in
      for r in piece {
        let o = r * width
        if rowFirst {
          for j in 0..<width { y[o + j] = f(a[o + j], b[j]) }
        } else {
          for j in 0..<width { y[o + j] = f(b[j], a[o + j]) }
        }
      }
    }
  }

  /// target[i] += source[i] for i < count.
  @inline(__always)
  static func add<T: TensorScalar>(_ source: UnsafePointer<T>, into target: UnsafeMutablePointer<T>, count: Int) {
    parallelFor(0..<count, grain: elementwiseGrain) { piece in
      for i in piece { target[i] += source[i] }
    }
  }

  /// Copies `count` scalars.
  @inline(__always)
  static func copy<T>(_ source: UnsafePointer<T>, into target: UnsafeMutablePointer<T>, count: Int) {
    parallelFor(0..<count, grain: 4 * elementwiseGrain) { piece in
      (target + piece.lowerBound).update(from: source + piece.lowerBound, count: piece.count)
    }
  }

  /// Sets `count` scalars to `value`.
  @inline(__always)
  static func fill<T>(_ target: UnsafeMutablePointer<T>, with value: T, count: Int) {
    parallelFor(0..<count, grain: 4 * elementwiseGrain) { piece in
      (target + piece.lowerBound).update(repeating: value, count: piece.count)
    }
  }

  /// y[i] = a[i] where flags[i], else b[i], for every flag.
  @inline(__always)
  static func select<T>(
    _ flags: UnsafeBufferPointer<Bool>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into y: UnsafeMutablePointer<T>
  ) {
    parallelFor(0..<flags.count, grain: elementwiseGrain) { piece in
      for i in piece { y[i] = flags[i] ? a[i] : b[i] }
    }
  }

  /// y[i] = x[i] where flags[i] == `keep`, else `other`, for every flag.
  @inline(__always)
  static func select<T>(
    _ flags: UnsafeBufferPointer<Bool>, keep: Bool, _ x: UnsafePointer<T>, other: T, into y: UnsafeMutablePointer<T>
  ) {
    parallelFor(0..<flags.count, grain: elementwiseGrain) { piece in
      for i in piece { y[i] = flags[i] == keep ? x[i] : other }
    }
  }

  /// Walks an output of `shape` in row-major order, reading the inputs through the strides `sa` and
  /// `sb` (0 along broadcast axes): y = f(a, b) for every element.
  @inline(__always)
  static func broadcastZip<T>(
    _ a: UnsafePointer<T>, strides sa: [Int], _ b: UnsafePointer<T>, strides sb: [Int],
    into y: UnsafeMutablePointer<T>, shape: [Int], _ f: (T, T) -> T
  ) {
    let rank = shape.count, length = shape[rank - 1]
    let rows = elementCount(shape) / Swift.max(length, 1)
    parallelFor(0..<rows, grain: Swift.max(1, elementwiseGrain / Swift.max(length, 1))) { piece in
      forEachBroadcastRow(shape: shape, sa, sb, rows: piece) { offsetA, offsetB, outOffset, length, strideA, strideB in
        for j in 0..<length { y[outOffset + j] = f(a[offsetA + j * strideA], b[offsetB + j * strideB]) }
      }
    }
  }

  /// y = x read through `strides` (broadcasting with stride 0, or permuting axes), written in the
  /// row-major order of `shape`.
  @inline(__always)
  static func gather<T>(_ x: UnsafePointer<T>, strides: [Int], into y: UnsafeMutablePointer<T>, shape: [Int]) {
    let rank = shape.count, length = shape[rank - 1]
    let rows = elementCount(shape) / Swift.max(length, 1)
    parallelFor(0..<rows, grain: Swift.max(1, elementwiseGrain / Swift.max(length, 1))) { piece in
      forEachBroadcastRow(shape: shape, strides, strides, rows: piece) { offset, _, outOffset, length, stride, _ in
        for j in 0..<length { y[outOffset + j] = x[offset + j * stride] }
      }
    }
  }
}

/// Calls `body` once per innermost row in `rows` of the output of `shape`, with the element offsets
/// of the two inputs and the output, the row length, and the inputs' strides along the last axis.
@inline(__always)
func forEachBroadcastRow(
  shape: [Int], _ sa: [Int], _ sb: [Int], rows: Range<Int>,
  _ body: (_ offsetA: Int, _ offsetB: Int, _ outOffset: Int, _ length: Int, _ strideA: Int, _ strideB: Int) ->
    Void
) {
  let rank = shape.count
  let length = shape[rank - 1]
  guard !rows.isEmpty else { return }
  // The odometer over the leading axes, started at row rows.lowerBound.
  var index = [Int](repeating: 0, count: rank)
  var offsetA = 0, offsetB = 0
  var remainder = rows.lowerBound
  var axis = rank - 2
  while axis >= 0 && remainder > 0 {
    index[axis] = remainder % shape[axis]
    remainder /= shape[axis]
    offsetA += index[axis] * sa[axis]
    offsetB += index[axis] * sb[axis]
    axis -= 1
  }
  for row in rows {
    body(offsetA, offsetB, row * length, length, sa[rank - 1], sb[rank - 1])
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

// MARK: - Storage entry points

extension Storage {
  /// `f` applied to every element.
  @inline(__always)
  func map(grain: Int = CPU.elementwiseGrain, _ f: (Scalar) -> Scalar) -> Storage {
    let out = Storage(uninitializedShape: shape)
    CPU.map(buffer.base, into: out.buffer.base, count: count, grain: grain, f)
    return out
  }

  /// `f` applied to pairs of elements of two storages of the same shape.
  @inline(__always)
  func zipSameShape(
    _ other: Storage, grain: Int = CPU.elementwiseGrain, _ f: (Scalar, Scalar) -> Scalar
  ) -> Storage {
    let out = Storage(uninitializedShape: shape)
    CPU.zip(buffer.base, other.buffer.base, into: out.buffer.base, count: count, grain: grain, f)
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
    let pa = a.buffer.base, pb = b.buffer.base, y = out.buffer.base
    let n = out.count
    if n == 0 { return out }
    if b.count == 1 && a.count == n {
      CPU.zip(pa, scalar: pb[0], into: y, count: n, f)
    } else if a.count == 1 && b.count == n {
      CPU.zip(scalar: pa[0], pb, into: y, count: n, f)
    } else if a.count == n && isSuffixBroadcast(b.shape, of: shape) {
      // A row repeated over leading axes, such as a bias: [.., n] op [n].
      CPU.zipRows(pa, row: pb, into: y, rows: n / Swift.max(b.count, 1), width: b.count, rowFirst: true, f)
    } else if b.count == n && isSuffixBroadcast(a.shape, of: shape) {
      CPU.zipRows(pb, row: pa, into: y, rows: n / Swift.max(a.count, 1), width: a.count, rowFirst: false, f)
    } else {
      CPU.broadcastZip(
        pa, strides: broadcastStrides(a.shape, to: shape), pb, strides: broadcastStrides(b.shape, to: shape),
        into: y, shape: shape, f)
    }
    return out
  }

  /// This storage repeated along its size-1 and missing leading axes to `target` (numpy broadcasting).
  func expanded(to target: [Int]) -> Storage {
    if shape == target { return self }
    if count == 1 { return Storage(repeating: buffer.base[0], shape: target) }
    return gathered(shape: target, strides: broadcastStrides(shape, to: target))
  }

  /// A new row-major storage of `shape` whose element at index (i₀, i₁, …) is this storage's element
  /// at offset Σ iₖ·strides[k]. Broadcasting (stride 0) and permuting axes are both such reads.
  func gathered(shape target: [Int], strides: [Int]) -> Storage {
    let out = Storage(uninitializedShape: target)
    if out.count == 0 { return out }
    CPU.gather(buffer.base, strides: strides, into: out.buffer.base, shape: target)
    return out
  }
}
