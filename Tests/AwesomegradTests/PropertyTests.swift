import Micrograd
import Testing

@testable import Awesomegrad

/// The tensor engine against the scalar engine: random compositions of ops on random shapes are
/// evaluated once as `Tensor<Double>` and once element by element with micrograd `Value`s, and the
/// values and the gradients of every leaf must agree to 1e-10 (relative to 1 + |reference|).
///
/// Only micrograd's API is used on the scalar side: `Value(Double)`, `+ − × ÷`, `tanh() exp() log()
/// relu() sigmoid()`, `backward()`, `data`, `grad`.
@Suite struct PropertyTests {
  static let caseCount = 300

  @Test func tensorEngineMatchesTheScalarEngine() {
    var checked = 0
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
    }
    #expect(checked >= 200)
  }

  static func close(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-10 * (1 + Swift.abs($1)) }
  }
}

/// A shaped array of micrograd values: the scalar engine's picture of a tensor.
struct ScalarTensor {
  var shape: [Int]
  var values: [Value]

  /// `f` applied pairwise with numpy broadcasting.
  static func broadcasting(_ a: ScalarTensor, _ b: ScalarTensor, _ f: (Value, Value) -> Value) -> ScalarTensor
  {
    let shape = broadcastShape(a.shape, b.shape)!
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    let values = (0..<elementCount(shape)).map { flat in
      let index = multiIndex(flat, shape)
      return f(a.values[offset(index, sa)], b.values[offset(index, sb)])
    }
    return ScalarTensor(shape: shape, values: values)
  }

  func map(_ f: (Value) -> Value) -> ScalarTensor { ScalarTensor(shape: shape, values: values.map(f)) }

  /// Σ over `axes`, keeping them as size 1 or removing them.
  func sum(axes: [Int], keepDims: Bool) -> ScalarTensor {
    var kept = shape
    for axis in axes { kept[axis] = 1 }
    var totals = [Value?](repeating: nil, count: elementCount(kept))
    let keptStrides = contiguousStrides(kept)
    for (flat, v) in values.enumerated() {
      var index = multiIndex(flat, shape)
      for axis in axes { index[axis] = 0 }
      let k = offset(index, keptStrides)
      totals[k] = totals[k].map { $0 + v } ?? v
    }
    let outShape = keepDims ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    return ScalarTensor(shape: outShape, values: totals.map { $0 ?? Value(0) })
  }

  /// The matrix product of `[..., m, k]` (or `[k]`) with `[k, n]` or `[..., k, n]` (same batch).
  func matmul(_ other: ScalarTensor) -> ScalarTensor {
    let lhs = shape.count == 1 ? ScalarTensor(shape: [1] + shape, values: values) : self
    let (m, k, n) = (lhs.shape[lhs.shape.count - 2], lhs.shape.last!, other.shape.last!)
    let batch = Array(lhs.shape.dropLast(2))
    let otherBatched = other.shape.count > 2
    var out: [Value] = []
    for b in 0..<elementCount(batch) {
      for i in 0..<m {
        for j in 0..<n {
          var total = lhs.values[b * m * k + i * k] * other.values[(otherBatched ? b * k * n : 0) + j]
          for p in 1..<k {
            total =
              total + lhs.values[b * m * k + i * k + p]
              * other.values[(otherBatched ? b * k * n : 0) + p * n + j]
          }
          out.append(total)
        }
      }
    }
    return ScalarTensor(shape: shape.count == 1 ? [n] : batch + [m, n], values: out)
  }
}

func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
  var index = [Int](repeating: 0, count: shape.count), rest = flat
  for axis in shape.indices.reversed() {
    index[axis] = rest % shape[axis]
    rest /= shape[axis]
  }
  return index
}

func offset(_ index: [Int], _ strides: [Int]) -> Int { zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 } }

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
  mutating func shape(rank: Int) -> [Int] { (0..<rank).map { _ in int(in: 1...3) } }

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
    let keepDims = int(in: 0...1) == 0
    var inputShape = shape
    var axes: [Int] = []
    if keepDims {
      // Expand some size-1 axes of `shape` (or none, which reduces nothing when there are none).
      for axis in shape.indices where shape[axis] == 1 && int(in: 0...1) == 0 {
        inputShape[axis] = int(in: 1...3)
        axes.append(axis)
      }
    } else {
      // Insert one or two reduced axes.
      for _ in 0..<int(in: 1...2) where inputShape.count < 4 {
        let position = int(in: 0...inputShape.count)
        inputShape.insert(int(in: 1...3), at: position)
        axes = axes.map { $0 >= position ? $0 + 1 : $0 } + [position]
      }
      axes.sort()
    }
    let x = expression(shape: inputShape, depth: depth - 1)
    let count = axes.reduce(1) { $0 * inputShape[$1] }
    let sums = x.scalars.sum(axes: axes, keepDims: keepDims)
    if int(in: 0...1) == 0 {
      return Pair(tensor: x.tensor.sum(axes: axes, keepDims: keepDims), scalars: sums)
    }
    return Pair(
      tensor: x.tensor.mean(axes: axes, keepDims: keepDims), scalars: sums.map { $0 / Double(count) })
  }

  /// A matrix product with result `shape`: `[k]·[k, n]` for rank 1, `[..., m, k]·[k, n]` or
  /// `[..., m, k]·[..., k, n]` for rank ≥ 2. Rank 0 falls back to a leaf.
  mutating func product(shape: [Int], depth: Int) -> Pair {
    guard let n = shape.last else { return leaf(shape) }
    let k = int(in: 1...3)
    let lhsShape = shape.count == 1 ? [k] : shape.dropLast() + [k]
    let rhsShape = shape.count > 2 && int(in: 0...1) == 0 ? shape.dropLast(2) + [k, n] : [k, n]
    let a = expression(shape: lhsShape, depth: depth - 1)
    let b = expression(shape: rhsShape, depth: depth - 1)
    return Pair(tensor: a.tensor.matmul(b.tensor), scalars: a.scalars.matmul(b.scalars))
  }
}
