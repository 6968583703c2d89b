/// A module buffer of whole numbers, kept exactly as `Int64`: PyTorch's int64 buffers, such as batch
/// norm's `num_batches_tracked`, which a checkpoint stores as I64.
///
/// It is not a tensor: it is never differentiated, and a counter kept in a `Float` tensor stops at
/// 2²⁴ (16 777 216 + 1 rounds back to 16 777 216). Register it with the module's `registerBuffer`;
/// it is saved, loaded and broadcast with the module's other state, under its dotted name.
public final class IntegerBuffer {
  /// The sizes of the axes; `[]` for a counter.
  public let shape: [Int]
  /// The values, row-major: as many as `shape` holds (a change of count stops with a message).
  public var values: [Int64] {
    didSet {
      if values.count != oldValue.count {
        argumentFailure(
          "IntegerBuffer.values", "\(values.count) values for shape \(shape); keep \(oldValue.count)",
          file: #fileID, line: #line)
      }
    }
  }

  /// A buffer of `shape` holding `values`, row-major.
  public init(_ values: [Int64], shape: [Int], file: StaticString = #fileID, line: UInt = #line) {
    if values.count != elementCount(shape) {
      argumentFailure(
        "IntegerBuffer", "\(values.count) values do not fill shape \(shape)", file: file, line: line)
    }
    self.shape = shape
    self.values = values
  }

  /// A counter: shape `[]`, starting at `value`.
  public convenience init(scalar value: Int64 = 0) { self.init([value], shape: []) }

  /// The value of a buffer with one element, such as a counter.
  public func item(file: StaticString = #fileID, line: UInt = #line) -> Int64 {
    if values.count != 1 {
      shapeFailure(
        "item", "the buffer has \(values.count) elements, not 1", shapes: [shape], file: file, line: line)
    }
    return values[0]
  }
}
