/// Making tensors: from scalars, filled, ranges, identity, and conversion between Float and Double.
extension Tensor {
  /// A tensor of `shape` over `scalars` in row-major order.
  public convenience init(
    _ scalars: [Scalar], shape: [Int], requiresGrad: Bool = false,
    file: StaticString = #fileID, line: UInt = #line
  ) {
    if shape.contains(where: { $0 < 0 }) || elementCount(shape) != scalars.count {
      shapeFailure(
        "Tensor(_:shape:)", "\(scalars.count) scalars do not fill the shape", shapes: [shape],
        file: file, line: line)
    }
    self.init(Storage(scalars, shape: shape), requiresGrad: requiresGrad)
  }

  /// A 1-D tensor over `scalars`.
  public convenience init(_ scalars: [Scalar], requiresGrad: Bool = false) {
    self.init(Storage(scalars, shape: [scalars.count]), requiresGrad: requiresGrad)
  }

  /// A scalar (rank-0) tensor.
  public convenience init(scalar: Scalar, requiresGrad: Bool = false) {
    self.init(Storage(repeating: scalar, shape: []), requiresGrad: requiresGrad)
  }

  /// A tensor of `shape` with every element equal to `value`.
  public static func full(_ shape: [Int], _ value: Scalar, requiresGrad: Bool = false) -> Tensor {
    Tensor(Storage(repeating: value, shape: shape), requiresGrad: requiresGrad)
  }

  /// A tensor of zeros.
  public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
    full(shape, 0, requiresGrad: requiresGrad)
  }

  /// A tensor of ones.
  public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
    full(shape, 1, requiresGrad: requiresGrad)
  }

  /// `[0, 1, …]` up to but excluding `end`: `arange(6)` is `[0, 1, 2, 3, 4, 5]`.
  public static func arange(_ end: Scalar) -> Tensor { arange(0, end) }

  /// `[start, start + step, …]` up to but excluding `end`, as numpy's `arange`.
  public static func arange(
    _ start: Scalar, _ end: Scalar, step: Scalar = 1, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    if step == 0 { shapeFailure("arange", "step must not be 0", shapes: [], file: file, line: line) }
    let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
    return Tensor((0..<n).map { start + Scalar($0) * step })
  }

  /// The `n×n` identity matrix.
  public static func eye(_ n: Int) -> Tensor {
    let s = Storage<Scalar>(repeating: 0, shape: [n, n])
    for i in 0..<n { s.buffer.base[i * n + i] = 1 }
    return Tensor(s)
  }

  /// The same values in another scalar type (Float ↔ Double), as a new leaf.
  public convenience init<Other: TensorScalar>(_ other: Tensor<Other>, requiresGrad: Bool = false) {
    let src = other.storage
    let out = Storage<Scalar>(uninitializedShape: src.shape)
    for i in 0..<src.count { out.buffer.base[i] = Scalar(src.buffer.base[i]) }
    self.init(out, requiresGrad: requiresGrad)
  }
}
