/// Shape arithmetic shared by every op: element counts, row-major strides, broadcasting, axes.

/// The number of elements of a tensor with this shape; 1 for a scalar (`[]`).
///
/// Every buffer is allocated with this count, and kernels index by the sizes in the shape, so a
/// negative size or a product past `Int.max` stops here, with a message in release builds too: a
/// wrapped count would allocate too little.
@inline(__always)
func elementCount(_ shape: [Int]) -> Int {
  // Every allocation passes here, so the loop stays as small as the trapping `n *= d` it replaced:
  // one multiply, one cold exit, the message built out of line. (Accumulating a validity flag
  // instead cost 0.5 µs of a 37 µs moons-tensor step.)
  var n = 1
  for d in shape {
    let (product, overflow) = n.multipliedReportingOverflow(by: d)
    if _slowPath(d < 0 || overflow) { shapeCountFailure(shape) }
    n = product
  }
  return n
}

/// Stops for a shape that ``elementCount(_:)`` rejects: a negative size, or sizes whose product does
/// not fit in Int (a later 0 does not rescue an overflowing prefix, whose strides would overflow too).
@inline(never)
func shapeCountFailure(_ shape: [Int]) -> Never {
  let problem = shape.contains { $0 < 0 } ? "has a negative size" : "has more elements than Int.max"
  fatalError("shape \(shape) \(problem); sizes must be ≥ 0 and their product must fit in Int")
}

/// Row-major strides: the last axis is contiguous.
func contiguousStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var s = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[i] = s
    s &*= shape[i]
  }
  return strides
}

/// numpy's broadcasting rule: align the shapes at the right; each pair of sizes must be equal or 1.
/// Returns nil when the shapes do not broadcast.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
  if a == b { return a }
  let n = max(a.count, b.count)
  var out = [Int](repeating: 1, count: n)
  for i in 0..<n {
    let da = i < n - a.count ? 1 : a[i - (n - a.count)]
    let db = i < n - b.count ? 1 : b[i - (n - b.count)]
    guard da == db || da == 1 || db == 1 else { return nil }
    out[i] = da == 1 ? db : da
  }
  return out
}

/// Strides that read a tensor of `shape` as if it had the broadcast shape `target`:
/// 0 along every axis that is new or of size 1.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
  let own = contiguousStrides(shape)
  let offset = target.count - shape.count
  var strides = [Int](repeating: 0, count: target.count)
  for i in 0..<shape.count where shape[i] != 1 || target[i + offset] == 1 {
    strides[i + offset] = shape[i] == 1 ? 0 : own[i]
  }
  return strides
}

/// Resolves a possibly negative axis against `rank`, stopping with a message that names the op.
func normalizeAxis(
  _ axis: Int, rank: Int, op: String, shape: [Int], file: StaticString, line: UInt
) -> Int {
  let resolved = axis < 0 ? axis + rank : axis
  if resolved < 0 || resolved >= rank {
    shapeFailure(
      op, "axis \(axis) is out of range for a tensor of rank \(rank)", shapes: [shape], file: file, line: line
    )
  }
  return resolved
}

/// Resolves a list of axes (nil means all), sorted and without repeats.
func normalizeAxes(
  _ axes: [Int]?, rank: Int, op: String, shape: [Int], file: StaticString, line: UInt
) -> [Int] {
  guard let axes else { return Array(0..<rank) }
  let resolved = axes.map { normalizeAxis($0, rank: rank, op: op, shape: shape, file: file, line: line) }
  let unique = Array(Set(resolved)).sorted()
  if unique.count != resolved.count {
    shapeFailure(op, "axes \(axes) repeat an axis", shapes: [shape], file: file, line: line)
  }
  return unique
}

/// Stops the program for a programmer error in an op's arguments. The message names the op, the shapes
/// involved and the caller's file and line, e.g.
/// `matmul: inner dimensions differ (3 vs 4); shapes [2, 3] and [4, 5] (at Model.swift:12)`.
func shapeFailure(
  _ op: String, _ problem: String, shapes: [[Int]], file: StaticString, line: UInt
) -> Never {
  let shapeList = shapes.map { "\($0)" }.joined(separator: " and ")
  let noun = shapes.count == 1 ? "shape" : "shapes"
  fatalError("\(op): \(problem); \(noun) \(shapeList) (at \(callerLocation(file, line)))", file: file, line: line)
}

/// Stops the program for a bad argument that is not a shape: a probability outside [0, 1), a batch
/// size of 0, an index out of range. The message names the function, the problem with the value it
/// got and the caller's file and line, in release builds too (unlike `precondition`, whose message
/// release builds drop), e.g.
/// `MiniBatches: batchSize must be positive, got 0 (at Train.swift:8)`.
func argumentFailure(_ function: String, _ problem: String, file: StaticString, line: UInt) -> Never {
  fatalError("\(function): \(problem) (at \(callerLocation(file, line)))", file: file, line: line)
}

/// The caller's `file:line` for an error message: `file:line` itself when it is the user's, and when
/// it is a line of the package's libraries (a layer's forward pass calling an op, a model checking
/// its input), the first frame of the call stack outside them, as anomaly mode finds an op's site.
package func callerLocation(_ file: StaticString, _ line: UInt) -> String {
  CreationSite(file: file, line: line).describe()
}
