/// Printing tensors the way numpy and PyTorch do: nested brackets, columns aligned, large tensors
/// abbreviated with `...`, and the shape at the end.
///
/// ```
/// Tensor<Float>([[1.0, 2.0],
///                [3.0, 4.0]], shape: [2, 2])
/// ```
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
  /// Tensors with more elements than this are abbreviated to their first and last
  /// ``descriptionEdgeItems`` entries along every long axis.
  public static var descriptionThreshold: Int { 1000 }
  /// How many entries an abbreviated axis shows at each end.
  public static var descriptionEdgeItems: Int { 3 }

  /// The values in nested brackets, then the shape, and `requiresGrad: true` for tensors that
  /// require grad.
  public var description: String {
    let prefix = "Tensor<\(Scalar.self)>("
    var suffix = ", shape: \(shape)"
    if requiresGrad { suffix += ", requiresGrad: true" }
    return prefix + formattedValues(indent: prefix.count) + suffix + ")"
  }

  /// ``description`` plus where the tensor sits in the graph.
  public var debugDescription: String {
    let role = isLeaf ? "leaf" : "result of an op with \(parents.count) input(s)"
    let gradient = gradStorage == nil ? "no grad" : "grad accumulated"
    return "\(description) (\(role), \(gradient))"
  }

  /// The values in nested brackets, with rows after the first indented by `indent` columns.
  func formattedValues(indent: Int) -> String {
    let values = storage.buffer.base
    if rank == 0 { return values[0].description }
    let abbreviate = count > Self.descriptionThreshold
    let edge = Self.descriptionEdgeItems
    // The indices shown along each axis; nil marks the elided middle.
    let shown: [[Int?]] = shape.map { size in
      if abbreviate && size > 2 * edge {
        return Array(0..<edge) + [nil] + Array((size - edge)..<size)
      }
      return Array(0..<size)
    }
    let strides = contiguousStrides(shape)
    // One width for every shown element, so that columns line up.
    var width = 0
    forEachShownOffset(shown, strides) { width = Swift.max(width, values[$0].description.count) }

    func render(axis: Int, offset: Int) -> String {
      if axis == rank - 1 {
        let items = shown[axis].map { i -> String in
          guard let i else { return "..." }
          let text = values[offset + i * strides[axis]].description
          return String(repeating: " ", count: width - text.count) + text
        }
        return "[" + items.joined(separator: ", ") + "]"
      }
      // Blocks of rank r are separated by r − 1 blank lines, as numpy does.
      let separator =
        "," + String(repeating: "\n", count: rank - axis - 1)
        + String(repeating: " ", count: indent + axis + 1)
      let blocks = shown[axis].map { i in
        i.map { render(axis: axis + 1, offset: offset + $0 * strides[axis]) } ?? "..."
      }
      return "[" + blocks.joined(separator: separator) + "]"
    }
    return render(axis: 0, offset: 0)
  }
}

/// Calls `body` with the storage offset of every element that `shown` selects.
private func forEachShownOffset(_ shown: [[Int?]], _ strides: [Int], _ body: (Int) -> Void) {
  func visit(_ axis: Int, _ offset: Int) {
    if axis == shown.count {
      body(offset)
      return
    }
    for case let i? in shown[axis] { visit(axis + 1, offset + i * strides[axis]) }
  }
  visit(0, 0)
}
