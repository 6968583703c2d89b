/// An n-dimensional array of integer indices: class labels, token ids, gather and embedding indices,
/// the result of `Tensor.argmax(axis:keepingDimensions:)`. PyTorch's `int64` tensor.
///
/// It is a plain value (shape plus row-major `Int`s) with no gradient: indices select, they are not
/// differentiated. Ops that take indices check them against the indexed axis and name themselves in
/// the error.
///
/// ```swift
/// let tokens = IndexTensor([3, 1, 4, 1, 5, 9], shape: [2, 3])   // [batch, time]
/// let vectors = embedding(tokens, weight: wte)                    // [2, 3, channels]
/// ```
public struct IndexTensor: Sendable, Hashable, CustomStringConvertible {
  /// The sizes of the axes; `[]` for a single index.
  public let shape: [Int]
  /// The indices in row-major order.
  public let scalars: [Int]

  /// Indices of `shape` in row-major order.
  public init(_ scalars: [Int], shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
    if shape.contains(where: { $0 < 0 }) || elementCount(shape) != scalars.count {
      shapeFailure(
        "IndexTensor(_:shape:)", "\(scalars.count) indices do not fill the shape", shapes: [shape],
        file: file, line: line)
    }
    self.shape = shape
    self.scalars = scalars
  }

  /// A 1-D array of indices.
  public init(_ scalars: [Int]) {
    self.shape = [scalars.count]
    self.scalars = scalars
  }

  /// A single (rank-0) index.
  public init(scalar: Int) {
    self.shape = []
    self.scalars = [scalar]
  }

  /// `0, 1, …, n − 1`.
  public static func arange(_ n: Int) -> IndexTensor { IndexTensor(Array(0..<Swift.max(n, 0))) }

  /// The number of axes.
  public var rank: Int { shape.count }
  /// The number of indices.
  public var count: Int { scalars.count }

  /// The same indices viewed with another shape of equal count; one size may be -1.
  public func reshaped(_ newShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> IndexTensor {
    IndexTensor(scalars, shape: resolveReshape(shape, to: newShape, op: "reshaped", file: file, line: line))
  }

  /// Stops unless every index is in `0..<size` (negative indices count from the end, as in PyTorch,
  /// and are returned resolved). `op` names the caller in the message.
  func resolved(against size: Int, op: String, file: StaticString, line: UInt) -> [Int] {
    var out = scalars
    for i in out.indices {
      let index = out[i] < 0 ? out[i] + size : out[i]
      if index < 0 || index >= size {
        shapeFailure(
          op, "index \(scalars[i]) is out of range for an axis of size \(size)", shapes: [shape],
          file: file, line: line)
      }
      out[i] = index
    }
    return out
  }

  /// The shape and the indices.
  public var description: String { "IndexTensor(shape: \(shape), \(scalars))" }
}
