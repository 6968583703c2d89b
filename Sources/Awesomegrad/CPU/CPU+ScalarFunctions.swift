/// Elementwise functions as types, for the hottest loops.
///
/// A closure that a pool task captures is called through a pointer for every element on the worker
/// threads, which also stops the loop from vectorising; a kernel generic over one of these types is
/// specialised for it, so the function is inlined into the loop on every thread. The closure forms of
/// the kernels (`Storage.map { … }`) remain for the ops that are not hot.

/// A function of one scalar.
protocol UnaryScalarFunction {
  associatedtype Scalar: TensorScalar
  func callAsFunction(_ x: Scalar) -> Scalar
}

/// A function of two scalars.
protocol BinaryScalarFunction {
  associatedtype Scalar: TensorScalar
  func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar
}

/// The functions the arithmetic operators and the common activations use.
enum ScalarFunction {
  /// a + b
  struct Add<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a + b }
  }
  /// a − b
  struct Subtract<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a - b }
  }
  /// a · b
  struct Multiply<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a * b }
  }
  /// a / b
  struct Divide<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a / b }
  }
  /// max(a, b) (`Swift.max`: a NaN after a number is skipped)
  struct Maximum<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { Swift.max(a, b) }
  }
  /// The running maximum a of values b that stays NaN once it meets a NaN (`torch.amax`).
  struct MaximumPropagatingNaN<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a > b || a.isNaN ? a : b }
  }
  /// −x
  struct Negate<Scalar: TensorScalar>: UnaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Scalar) -> Scalar { -x }
  }
  /// max(x, 0), with NaN kept and −0 kept (see `Tensor.relu`).
  struct ReLU<Scalar: TensorScalar>: UnaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Scalar) -> Scalar { x < 0 ? 0 : x }
  }
  /// ReLU's pullback from the output y: g where y > 0, else 0.
  struct ReLUGradient<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ g: Scalar, _ y: Scalar) -> Scalar { y <= 0 ? 0 : g }
  }
  /// tanh x (in Float the rational approximation, which vectorises)
  struct Tanh<Scalar: TensorScalar>: UnaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Scalar) -> Scalar { Scalar.vectorizableTanh(x) }
  }
  /// tanh's pullback from the output y: g·(1 − y²).
  struct TanhGradient<Scalar: TensorScalar>: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ g: Scalar, _ y: Scalar) -> Scalar { g * (1 - y * y) }
  }
}

extension CPU {
  /// y[i] = f(x[i]) for i < count, with `f` inlined.
  @inline(__always)
  static func map<F: UnaryScalarFunction>(
    _ x: UnsafePointer<F.Scalar>, into y: UnsafeMutablePointer<F.Scalar>, count: Int, grain: Int = elementwiseGrain,
    function f: F
  ) {
    parallelFor(0..<count, grain: grain) { piece in
      for i in piece { y[i] = f(x[i]) }
    }
  }

  /// y = f(a, b) elementwise over `count` scalars, where `a` (or `b`) is one scalar repeated when
  /// its stride is 0, with `f` inlined.
  @inline(__always)
  static func zip<F: BinaryScalarFunction>(
    _ a: UnsafePointer<F.Scalar>, strideA: Int, _ b: UnsafePointer<F.Scalar>, strideB: Int,
    into y: UnsafeMutablePointer<F.Scalar>, count: Int, grain: Int = elementwiseGrain, function f: F
  ) {
    parallelFor(0..<count, grain: grain) { piece in
      switch (strideA, strideB) {
      case (1, 1): for i in piece { y[i] = f(a[i], b[i]) }
      case (1, _):
        let s = b[0]
        for i in piece { y[i] = f(a[i], s) }
      default:
        let s = a[0]
        for i in piece { y[i] = f(s, b[i]) }
      }
    }
  }

  /// y[r·n + j] = f(a[r·n + j], row[j]) (or f(row[j], a[r·n + j]) when not `rowFirst`) for `rows`
  /// rows of n = `width`, with `f` inlined.
  @inline(__always)
  static func zipRows<F: BinaryScalarFunction>(
    _ a: UnsafePointer<F.Scalar>, row b: UnsafePointer<F.Scalar>, into y: UnsafeMutablePointer<F.Scalar>,
    rows: Int, width: Int, rowFirst: Bool, function f: F
  ) {
    parallelFor(0..<rows, grain: Swift.max(1, elementwiseGrain / Swift.max(width, 1))) { piece in
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
}

extension Storage {
  /// `f` applied to every element, with `f` inlined in the kernel's loop on every thread.
  @inline(__always)
  func map<F: UnaryScalarFunction>(grain: Int = CPU.elementwiseGrain, _ f: F) -> Storage where F.Scalar == Scalar {
    let out = Storage(uninitializedShape: shape)
    CPU.map(buffer.base, into: out.buffer.base, count: count, grain: grain, function: f)
    return out
  }

  /// `f` applied to pairs of elements of two storages of the same shape, inlined.
  @inline(__always)
  func zipSameShape<F: BinaryScalarFunction>(
    _ other: Storage, grain: Int = CPU.elementwiseGrain, _ f: F
  ) -> Storage where F.Scalar == Scalar {
    let out = Storage(uninitializedShape: shape)
    CPU.zip(
      buffer.base, strideA: 1, other.buffer.base, strideB: 1, into: out.buffer.base, count: count, grain: grain,
      function: f)
    return out
  }

  /// `f` applied to two storages broadcast against each other, inlined; the general broadcast (not a
  /// scalar, not a row repeated over leading axes) falls back to the closure kernel.
  @inline(__always)
  static func broadcasting<F: BinaryScalarFunction>(
    _ a: Storage, _ b: Storage, op: String, file: StaticString = #fileID, line: UInt = #line, _ f: F
  ) -> Storage where F.Scalar == Scalar {
    guard let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape) else {
      shapeFailure(op, "shapes do not broadcast", shapes: [a.shape, b.shape], file: file, line: line)
    }
    let n = elementCount(shape)
    let pa = a.buffer.base, pb = b.buffer.base
    if a.count == n && (b.count == n || b.count == 1) || a.count == 1 && b.count == n {
      let out = Storage(uninitializedShape: shape)
      CPU.zip(
        pa, strideA: a.count == n ? 1 : 0, pb, strideB: b.count == n ? 1 : 0, into: out.buffer.base, count: n,
        function: f)
      return out
    }
    if n > 0 && a.count == n && isSuffixBroadcast(b.shape, of: shape) {
      let out = Storage(uninitializedShape: shape)
      CPU.zipRows(pa, row: pb, into: out.buffer.base, rows: n / b.count, width: b.count, rowFirst: true, function: f)
      return out
    }
    if n > 0 && b.count == n && isSuffixBroadcast(a.shape, of: shape) {
      let out = Storage(uninitializedShape: shape)
      CPU.zipRows(pb, row: pa, into: out.buffer.base, rows: n / a.count, width: a.count, rowFirst: false, function: f)
      return out
    }
    return broadcasting(a, b, op: op, file: file, line: line) { f($0, $1) }
  }
}
