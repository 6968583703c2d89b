import Micrograd
import Testing

@testable import Awesomegrad

/// The tensor engine against the scalar engine: random compositions of ops on random shapes are
/// evaluated once as `Tensor<Double>` and once element by element with micrograd `Value`s, and the
/// values and the gradients of every leaf must agree to 1e-10 (relative to 1 + |reference|), NaN
/// matching NaN (a mean over a size-0 axis is 0/0).
///
/// Only micrograd's API is used on the scalar side: `Value(Double)`, `+ − × ÷`, `tanh() exp() log()
/// relu() sigmoid()`, `backward()`, `data`, `grad`. Shapes, broadcasting and index arithmetic on the
/// scalar side are this file's own code (`Reference`), not the library's, and shapes include size-0
/// axes.
@Suite struct PropertyTests {
  static let caseCount = 300

  @Test func tensorEngineMatchesTheScalarEngine() {
    var checked = 0, withEmptyAxis = 0
    for seed in 0..<Self.caseCount {
      var builder = ExpressionBuilder(seed: UInt64(seed))
      let rank = builder.int(in: 0...3)
      let expression = builder.expression(shape: builder.shape(rank: rank), depth: 4)
      let upstream = (0..<expression.scalars.values.count).map { _ in builder.normal() }

      // Tensor side: backward of Σ out · upstream.
      let out = expression.tensor
      #expect(out.shape == expression.scalars.shape, "seed \(seed)")
      if out.requiresGrad { out.backward(gradient: Tensor(upstream, shape: out.shape)) }
      // Scalar side: the same loss as one Value.
      var loss = Value(0)
      for (v, u) in zip(expression.scalars.values, upstream) { loss = loss + v * Value(u) }
      loss.backward()

      #expect(Self.close(out.scalars, expression.scalars.values.map(\.data)), "values, seed \(seed)")
      for leaf in builder.leaves {
        let tensorGradient = leaf.tensor.grad?.scalars ?? [Double](repeating: 0, count: leaf.values.count)
        #expect(Self.close(tensorGradient, leaf.values.map(\.grad)), "gradients, seed \(seed)")
      }
      checked += 1
      if builder.leaves.contains(where: { $0.tensor.shape.contains(0) }) { withEmptyAxis += 1 }
    }
    #expect(checked == Self.caseCount)
    // Size-0 axes are drawn often enough to matter, but not so often that little else is tested.
    #expect(
      withEmptyAxis >= 20 && withEmptyAxis <= Self.caseCount / 2, "\(withEmptyAxis) cases with a size-0 axis")
  }

  /// Equal to 1e-10 relative to 1 + |b|; a non-finite b is matched only by the same value (NaN by NaN).
  static func close(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count
      && zip(a, b).allSatisfy { x, y in
        y.isFinite ? Swift.abs(x - y) <= 1e-10 * (1 + Swift.abs(y)) : (x.isNaN && y.isNaN) || x == y
      }
  }

  /// The reference's own shape code against hand-worked cases, so that it is not merely the library's
  /// rule restated: [3, 1] with [2, 1, 4] gives [2, 3, 4]; a size 1 against 0 gives 0; 2 against 0
  /// and 2 against 3 do not broadcast; element (1, 2, 3) of [2, 3, 4] is 1·12 + 2·4 + 3 = 23.
  @Test func referenceShapeRules() {
    #expect(Reference.broadcastShape([3, 1], [2, 1, 4]) == [2, 3, 4])
    #expect(Reference.broadcastShape([], [0, 2]) == [0, 2])
    #expect(Reference.broadcastShape([1, 2], [0, 1]) == [0, 2])
    #expect(Reference.broadcastShape([2], [0]) == nil)
    #expect(Reference.broadcastShape([2, 3], [3, 3]) == nil)
    #expect(Reference.count([2, 0, 5]) == 0 && Reference.count([]) == 1)
    #expect(Reference.flat([1, 2, 3], in: [2, 3, 4]) == 23)
    #expect(Reference.index(23, in: [2, 3, 4]) == [1, 2, 3])
    // Input [3, 1] read at output index (1, 2, 3) of [2, 3, 4]: its own index is (2, 0).
    #expect(Reference.sourceIndex([1, 2, 3], of: [3, 1]) == [2, 0])
  }
}

/// Shape arithmetic for the reference, written from numpy's broadcasting rule without the library.
enum Reference {
  /// Π of the sizes; 1 for a scalar.
  static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

  /// numpy's rule, axis by axis from the right: equal sizes stay, a 1 takes the other size (0
  /// included), anything else is an error (nil).
  static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    var result: [Int] = []
    var (i, j) = (a.count - 1, b.count - 1)
    while i >= 0 || j >= 0 {
      let x = i >= 0 ? a[i] : 1, y = j >= 0 ? b[j] : 1
      if x == y || y == 1 {
        result.insert(x, at: 0)
      } else if x == 1 {
        result.insert(y, at: 0)
      } else {
        return nil
      }
      i -= 1
      j -= 1
    }
    return result
  }

  /// The row-major position of `index` in `shape`: ((i₀·s₁ + i₁)·s₂ + i₂)…
  static func flat(_ index: [Int], in shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
  }

  /// The multi-index of row-major position `flat` in `shape`.
  static func index(_ flat: Int, in shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count), rest = flat
    for axis in shape.indices.reversed() {
      index[axis] = rest % shape[axis]
      rest /= shape[axis]
    }
    return index
  }

  /// The element of an input of `shape` that broadcasting reads at output index `outputIndex`: the
  /// input's axes align with the output's last ones, and a size-1 axis always reads index 0.
  static func sourceIndex(_ outputIndex: [Int], of shape: [Int]) -> [Int] {
    let aligned = outputIndex.suffix(shape.count)
    return zip(aligned, shape).map { i, size in size == 1 ? 0 : i }
  }
}

/// A shaped array of micrograd values: the scalar engine's picture of a tensor.
struct ScalarTensor {
  var shape: [Int]
  var values: [Value]

  /// `f` applied pairwise with numpy broadcasting.
  static func broadcasting(_ a: ScalarTensor, _ b: ScalarTensor, _ f: (Value, Value) -> Value) -> ScalarTensor
  {
    let shape = Reference.broadcastShape(a.shape, b.shape)!
    let values = (0..<Reference.count(shape)).map { flat in
      let index = Reference.index(flat, in: shape)
      return f(
        a.values[Reference.flat(Reference.sourceIndex(index, of: a.shape), in: a.shape)],
        b.values[Reference.flat(Reference.sourceIndex(index, of: b.shape), in: b.shape)])
    }
    return ScalarTensor(shape: shape, values: values)
  }

  func map(_ f: (Value) -> Value) -> ScalarTensor { ScalarTensor(shape: shape, values: values.map(f)) }

  /// Σ over `axes`, keeping them as size 1 or removing them.
  func sum(axes: [Int], keepingDimensions: Bool) -> ScalarTensor {
    var kept = shape
    for axis in axes { kept[axis] = 1 }
    // A total over nothing (a size-0 reduced axis) is the constant 0.
    var totals = [Value?](repeating: nil, count: Reference.count(kept))
    for (flat, v) in values.enumerated() {
      var index = Reference.index(flat, in: shape)
      for axis in axes { index[axis] = 0 }
      let k = Reference.flat(index, in: kept)
      totals[k] = totals[k].map { $0 + v } ?? v
    }
    let outShape = keepingDimensions ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    return ScalarTensor(shape: outShape, values: totals.map { $0 ?? Value(0) })
  }

  /// The matrix product of `[..., m, k]` (or `[k]`) with `[k, n]` or `[..., k, n]` (same batch).
  /// With k = 0 every entry is an empty sum, the constant 0.
  func matmul(_ other: ScalarTensor) -> ScalarTensor {
    let lhs = shape.count == 1 ? ScalarTensor(shape: [1] + shape, values: values) : self
    let (m, k, n) = (lhs.shape[lhs.shape.count - 2], lhs.shape.last!, other.shape.last!)
    let batch = Array(lhs.shape.dropLast(2))
    let otherBatched = other.shape.count > 2
    var out: [Value] = []
    for b in 0..<Reference.count(batch) {
      for i in 0..<m {
        for j in 0..<n {
          var total: Value?
          for p in 0..<k {
            let term =
              lhs.values[b * m * k + i * k + p] * other.values[(otherBatched ? b * k * n : 0) + p * n + j]
            total = total.map { $0 + term } ?? term
          }
          out.append(total ?? Value(0))
        }
      }
    }
    return ScalarTensor(shape: shape.count == 1 ? [n] : batch + [m, n], values: out)
  }
}

/// The same expression in both engines.
struct Pair {
  var tensor: Tensor<Double>
  var scalars: ScalarTensor
}

/// Builds random expressions from a seed: leaves of random values, unary functions, broadcasting
/// binary ops, sums and means over random axes, and matrix products.
struct ExpressionBuilder {
  var rng: SeededGenerator
  /// Every leaf made, in both forms, to compare gradients.
  var leaves: [(tensor: Tensor<Double>, values: [Value])] = []

  init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

  mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
  mutating func normal() -> Double { Tensor<Double>.randomNormal([1], using: &rng).scalars[0] }
  /// An axis size: 0 one time in 16, else 1 to 3.
  mutating func size() -> Int { int(in: 0...15) == 0 ? 0 : int(in: 1...3) }
  mutating func shape(rank: Int) -> [Int] { (0..<rank).map { _ in size() } }

  mutating func leaf(_ shape: [Int]) -> Pair {
    let data = Tensor<Double>.randomNormal(shape, using: &rng).scalars
    let tensor = Tensor(data, shape: shape, requiresGrad: true)
    let values = data.map { Value($0) }
    leaves.append((tensor, values))
    return Pair(tensor: tensor, scalars: ScalarTensor(shape: shape, values: values))
  }

  /// A random expression whose result has exactly `shape`.
  mutating func expression(shape: [Int], depth: Int) -> Pair {
    if depth == 0 || int(in: 0...5) == 0 { return leaf(shape) }
    switch int(in: 0...9) {
    case 0...2: return unary(expression(shape: shape, depth: depth - 1))
    case 3...5: return binary(shape: shape, depth: depth)
    case 6...7: return reduction(shape: shape, depth: depth)
    default: return product(shape: shape, depth: depth)
    }
  }

  mutating func unary(_ x: Pair) -> Pair {
    let (t, s) = (x.tensor, x.scalars)
    switch int(in: 0...7) {
    case 0: return Pair(tensor: -t, scalars: s.map { Value(0) - $0 })
    case 1: return Pair(tensor: t.tanh(), scalars: s.map { $0.tanh() })
    case 2: return Pair(tensor: t.relu(), scalars: s.map { $0.relu() })
    case 3: return Pair(tensor: t.sigmoid(), scalars: s.map { $0.sigmoid() })
    case 4: return Pair(tensor: t.tanh().exp(), scalars: s.map { $0.tanh().exp() })
    case 5: return Pair(tensor: (t * t + 1).log(), scalars: s.map { ($0 * $0 + 1).log() })
    case 6: return Pair(tensor: t.pow(2), scalars: s.map { $0 * $0 })
    default: return Pair(tensor: 0.5 * t - 2, scalars: s.map { 0.5 * $0 - 2 })
    }
  }

  /// a ∘ b where one operand has `shape` and the other a shape that broadcasts to it.
  mutating func binary(shape: [Int], depth: Int) -> Pair {
    // The smaller shape: a suffix of `shape` with some sizes replaced by 1.
    let dropped = int(in: 0...shape.count)
    let small = shape.dropFirst(dropped).map { int(in: 0...2) == 0 ? 1 : $0 }
    let full = expression(shape: shape, depth: depth - 1)
    let other = expression(shape: small, depth: depth - 1)
    let (a, b) = int(in: 0...1) == 0 ? (full, other) : (other, full)
    switch int(in: 0...3) {
    case 0:
      return Pair(tensor: a.tensor + b.tensor, scalars: .broadcasting(a.scalars, b.scalars, +))
    case 1:
      return Pair(tensor: a.tensor - b.tensor, scalars: .broadcasting(a.scalars, b.scalars, -))
    case 2:
      return Pair(tensor: a.tensor * b.tensor, scalars: .broadcasting(a.scalars, b.scalars, *))
    default:
      // A denominator in (0.5, 1.5): σ(b) + 0.5.
      let denominator = b.tensor.sigmoid() + 0.5
      return Pair(
        tensor: a.tensor / denominator,
        scalars: .broadcasting(a.scalars, b.scalars.map { $0.sigmoid() + 0.5 }, /))
    }
  }

  /// A sum or mean over random axes of an operand whose other axes give `shape`.
  mutating func reduction(shape: [Int], depth: Int) -> Pair {
    let keepingDimensions = int(in: 0...1) == 0
    var inputShape = shape
    var axes: [Int] = []
    if keepingDimensions {
      // Expand some size-1 axes of `shape` (or none, which reduces nothing when there are none).
      for axis in shape.indices where shape[axis] == 1 && int(in: 0...1) == 0 {
        inputShape[axis] = size()
        axes.append(axis)
      }
    } else {
      // Insert one or two reduced axes.
      for _ in 0..<int(in: 1...2) where inputShape.count < 4 {
        let position = int(in: 0...inputShape.count)
        inputShape.insert(size(), at: position)
        axes = axes.map { $0 >= position ? $0 + 1 : $0 } + [position]
      }
      axes.sort()
    }
    let x = expression(shape: inputShape, depth: depth - 1)
    let count = axes.reduce(1) { $0 * inputShape[$1] }
    let sums = x.scalars.sum(axes: axes, keepingDimensions: keepingDimensions)
    if int(in: 0...1) == 0 {
      return Pair(tensor: x.tensor.sum(axes: axes, keepingDimensions: keepingDimensions), scalars: sums)
    }
    return Pair(
      tensor: x.tensor.mean(axes: axes, keepingDimensions: keepingDimensions), scalars: sums.map { $0 / Double(count) })
  }

  /// A matrix product with result `shape`: `[k]·[k, n]` for rank 1, `[..., m, k]·[k, n]` or
  /// `[..., m, k]·[..., k, n]` for rank ≥ 2. Rank 0 falls back to a leaf.
  mutating func product(shape: [Int], depth: Int) -> Pair {
    guard let n = shape.last else { return leaf(shape) }
    let k = size()
    let lhsShape = shape.count == 1 ? [k] : shape.dropLast() + [k]
    let rhsShape = shape.count > 2 && int(in: 0...1) == 0 ? shape.dropLast(2) + [k, n] : [k, n]
    let a = expression(shape: lhsShape, depth: depth - 1)
    let b = expression(shape: rhsShape, depth: depth - 1)
    return Pair(tensor: a.tensor.matmul(b.tensor), scalars: a.scalars.matmul(b.scalars))
  }
}
