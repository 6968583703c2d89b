/// An n-dimensional array of booleans: attention masks, `where` conditions, comparison results.
/// PyTorch's `bool` tensor.
///
/// A mask broadcasts against the tensor it is used with by numpy's rule, as PyTorch's masks do: a
/// `[T, T]` causal mask applies to every `[B, H, T, T]` score matrix. Like ``IndexTensor`` it is a
/// plain value with no gradient.
///
/// ```swift
/// let causal = MaskTensor.lowerTriangular(rows: 4, columns: 4)   // true on and below the diagonal
/// let keep = x .> 0                                               // elementwise comparison
/// let y = x.maskedFill(!keep, with: 0)
/// ```
public struct MaskTensor: Sendable, Hashable, CustomStringConvertible {
  /// The sizes of the axes; `[]` for a single flag.
  public let shape: [Int]
  /// The flags in row-major order.
  public let scalars: [Bool]

  /// Flags of `shape` in row-major order.
  public init(_ scalars: [Bool], shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
    if shape.contains(where: { $0 < 0 }) || elementCount(shape) != scalars.count {
      shapeFailure(
        "MaskTensor(_:shape:)", "\(scalars.count) flags do not fill the shape", shapes: [shape],
        file: file, line: line)
    }
    self.shape = shape
    self.scalars = scalars
  }

  /// A 1-D mask.
  public init(_ scalars: [Bool]) {
    self.shape = [scalars.count]
    self.scalars = scalars
  }

  /// A mask of `shape` with every flag equal to `value`.
  public init(repeating value: Bool, shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
    self.init([Bool](repeating: value, count: elementCount(shape)), shape: shape, file: file, line: line)
  }

  /// `[rows, columns]`, true where `column − row ≤ diagonal`: `torch.ones(r, c).tril(diagonal).bool()`.
  /// With `diagonal` 0 and a square shape, the causal mask (a position sees itself and the past).
  public static func lowerTriangular(rows: Int, columns: Int, diagonal: Int = 0) -> MaskTensor {
    var flags = [Bool](repeating: false, count: rows * columns)
    for r in 0..<rows {
      for c in 0..<columns where c - r <= diagonal { flags[r * columns + c] = true }
    }
    return MaskTensor(flags, shape: [rows, columns])
  }

  /// `[rows, columns]`, true where `column − row ≥ diagonal`: `torch.ones(r, c).triu(diagonal).bool()`.
  public static func upperTriangular(rows: Int, columns: Int, diagonal: Int = 0) -> MaskTensor {
    var flags = [Bool](repeating: false, count: rows * columns)
    for r in 0..<rows {
      for c in 0..<columns where c - r >= diagonal { flags[r * columns + c] = true }
    }
    return MaskTensor(flags, shape: [rows, columns])
  }

  /// The number of axes.
  public var rank: Int { shape.count }
  /// The number of flags.
  public var count: Int { scalars.count }

  /// The flags repeated to `target` by numpy's broadcasting rule; stops with `op`'s name when the
  /// shapes do not broadcast.
  func broadcast(
    to target: [Int], op: String = "MaskTensor.broadcast", file: StaticString = #fileID, line: UInt = #line
  ) -> MaskTensor {
    if shape == target { return self }
    guard broadcastShape(shape, target) == target else {
      shapeFailure(op, "the mask does not broadcast to the tensor", shapes: [shape, target], file: file, line: line)
    }
    let strides = broadcastStrides(shape, to: target)
    return MaskTensor(gatherBroadcast(scalars, target: target, strides: strides), shape: target)
  }

  /// Elementwise not.
  public static prefix func ! (mask: MaskTensor) -> MaskTensor {
    MaskTensor(mask.scalars.map { !$0 }, shape: mask.shape)
  }

  /// Elementwise and, broadcasting.
  public static func && (lhs: MaskTensor, rhs: MaskTensor) -> MaskTensor {
    combine(lhs, rhs, op: "&&") { $0 && $1 }
  }

  /// Elementwise or, broadcasting.
  public static func || (lhs: MaskTensor, rhs: MaskTensor) -> MaskTensor {
    combine(lhs, rhs, op: "||") { $0 || $1 }
  }

  static func combine(
    _ lhs: MaskTensor, _ rhs: MaskTensor, op: String, _ f: (Bool, Bool) -> Bool
  ) -> MaskTensor {
    guard let shape = broadcastShape(lhs.shape, rhs.shape) else {
      shapeFailure(op, "masks do not broadcast", shapes: [lhs.shape, rhs.shape], file: #fileID, line: #line)
    }
    let a = lhs.broadcast(to: shape, op: op).scalars, b = rhs.broadcast(to: shape, op: op).scalars
    return MaskTensor(zip(a, b).map { f($0, $1) }, shape: shape)
  }

  /// The shape and the values as 0 and 1.
  public var description: String { "MaskTensor(shape: \(shape), \(scalars.map { $0 ? 1 : 0 }))" }
  /// The shape and the values as 0 and 1.
}

/// The elements of a row-major array read through `strides` (0 along broadcast axes) into `target`.
func gatherBroadcast<Element>(_ source: [Element], target: [Int], strides: [Int]) -> [Element] {
  let n = elementCount(target)
  guard n > 0 else { return [] }
  var out: [Element] = []
  out.reserveCapacity(n)
  var index = [Int](repeating: 0, count: target.count)
  var offset = 0
  for _ in 0..<n {
    out.append(source[offset])
    var axis = target.count - 1
    while axis >= 0 {
      index[axis] += 1
      offset += strides[axis]
      if index[axis] < target[axis] { break }
      offset -= strides[axis] * target[axis]
      index[axis] = 0
      axis -= 1
    }
  }
  return out
}

// MARK: - Comparisons

infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence

extension Tensor {
  /// Elementwise comparison of two tensors broadcast against each other; NaN compares false except
  /// in `.!=`, as in IEEE 754 and PyTorch. The result has no gradient.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func compared(
    with other: Tensor, op: String, file: StaticString = #fileID, line: UInt = #line,
    _ predicate: (Scalar, Scalar) -> Bool
  ) -> MaskTensor {
    guard let shape = broadcastShape(self.shape, other.shape) else {
      shapeFailure(op, "shapes do not broadcast", shapes: [self.shape, other.shape], file: file, line: line)
    }
    let a = storage.expanded(to: shape), b = other.storage.expanded(to: shape)
    let pa = a.buffer.base, pb = b.buffer.base
    return MaskTensor((0..<a.count).map { predicate(pa[$0], pb[$0]) }, shape: shape)
  }

  /// Where a is less than b, elementwise with broadcasting.
  public static func .< (lhs: Tensor, rhs: Tensor) -> MaskTensor { lhs.compared(with: rhs, op: ".<", <) }
  /// Where a is less than b, elementwise with broadcasting.
  public static func .<= (lhs: Tensor, rhs: Tensor) -> MaskTensor { lhs.compared(with: rhs, op: ".<=", <=) }
  /// Where a is less than or equal to b, elementwise with broadcasting.
  public static func .> (lhs: Tensor, rhs: Tensor) -> MaskTensor { lhs.compared(with: rhs, op: ".>", >) }
  /// Where a is greater than b, elementwise with broadcasting.
  public static func .>= (lhs: Tensor, rhs: Tensor) -> MaskTensor { lhs.compared(with: rhs, op: ".>=", >=) }
  /// Where a is greater than or equal to b, elementwise with broadcasting.
  public static func .== (lhs: Tensor, rhs: Tensor) -> MaskTensor { lhs.compared(with: rhs, op: ".==", ==) }
  /// Where a is equal to b, elementwise with broadcasting.
  public static func .!= (lhs: Tensor, rhs: Tensor) -> MaskTensor { lhs.compared(with: rhs, op: ".!=", !=) }
  /// Where a is not equal to b, elementwise with broadcasting.

  /// Where a is less than the constant c.
  public static func .< (lhs: Tensor, rhs: Scalar) -> MaskTensor { lhs .< Tensor(scalar: rhs) }
  /// Where a is less than the constant c.
  public static func .<= (lhs: Tensor, rhs: Scalar) -> MaskTensor { lhs .<= Tensor(scalar: rhs) }
  /// Where a is less than or equal to the constant c.
  public static func .> (lhs: Tensor, rhs: Scalar) -> MaskTensor { lhs .> Tensor(scalar: rhs) }
  /// Where a is greater than the constant c.
  public static func .>= (lhs: Tensor, rhs: Scalar) -> MaskTensor { lhs .>= Tensor(scalar: rhs) }
  /// Where a is greater than or equal to the constant c.
  public static func .== (lhs: Tensor, rhs: Scalar) -> MaskTensor { lhs .== Tensor(scalar: rhs) }
  /// Where a is equal to the constant c.
  public static func .!= (lhs: Tensor, rhs: Scalar) -> MaskTensor { lhs .!= Tensor(scalar: rhs) }
  /// Where a is not equal to the constant c.

  /// A tensor of this scalar type with 1 where the mask is true and 0 elsewhere (`mask.float()`).
  public convenience init(_ mask: MaskTensor) {
    self.init(mask.scalars.map { $0 ? 1 : 0 }, shape: mask.shape)
  }

  /// A tensor holding the indices as scalars (`indices.double()`).
  public convenience init(_ indices: IndexTensor) {
    self.init(indices.scalars.map { Scalar($0) }, shape: indices.shape)
  }
}
