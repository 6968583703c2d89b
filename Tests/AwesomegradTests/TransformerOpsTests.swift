import Foundation
import Testing
import TorchConformance

@testable import Awesomegrad

/// The transformer ops: gradient checks against finite differences (Double), hand-computed values,
/// the causal mask, and the v2 PyTorch fixture.
@Suite struct TransformerOpsTests {
  /// An op under test, as in ``GradCheckOpsTests``: inputs drawn from normal(0, 1).
  struct OpCase: CustomTestStringConvertible, Sendable {
    let name: String
    let shapes: [[Int]]
    let f: @Sendable ([Tensor<Double>]) -> Tensor<Double>
    var testDescription: String { name }
  }

  static let causal = MaskTensor.lowerTriangular(rows: 4, columns: 4)
  static let someMask = MaskTensor(
    [true, false, true, true, false, true, true, true, false, false, true, true], shape: [3, 4])

  static let cases: [OpCase] = [
    // Index 1 appears three times: its gradient row is the sum of three upstream rows.
    OpCase(name: "embedding", shapes: [[4, 3]]) {
      embedding(IndexTensor([0, 1, 1, 3, 1, -4], shape: [2, 3]), weight: $0[0])
    },
    OpCase(name: "indexSelect axis 1", shapes: [[2, 5, 3]]) {
      $0[0].indexSelect(axis: 1, IndexTensor([4, 0, 4]))
    },
    OpCase(name: "indexSelect axis 0", shapes: [[4, 2]]) {
      $0[0].indexSelect(axis: 0, IndexTensor([3, 3, 1]))
    },
    OpCase(name: "gathering", shapes: [[3, 4]]) {
      $0[0].gathering(axis: 1, IndexTensor([1, 1, 0, 3, 2, 2], shape: [2, 3]))
    },
    OpCase(name: "gathering axis 0", shapes: [[3, 4]]) {
      $0[0].gathering(axis: 0, IndexTensor([2, 0, 2, 1], shape: [1, 4]))
    },
    OpCase(name: "layerNorm last axis", shapes: [[2, 3, 5], [5], [5]]) {
      layerNorm($0[0], normalizedShape: [5], weight: $0[1], bias: $0[2])
    },
    OpCase(name: "layerNorm last two axes", shapes: [[2, 3, 4], [3, 4], [3, 4]]) {
      layerNorm($0[0], normalizedShape: [3, 4], weight: $0[1], bias: $0[2], eps: 1e-6)
    },
    OpCase(name: "layerNorm without affine", shapes: [[3, 6]]) { layerNorm($0[0], normalizedShape: [6]) },
    OpCase(name: "attention", shapes: [[2, 2, 3, 4], [2, 2, 5, 4], [2, 2, 5, 3]]) {
      scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2])
    },
    OpCase(name: "attention causal", shapes: [[2, 4, 3], [2, 4, 3], [2, 4, 3]]) {
      scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true)
    },
    OpCase(name: "attention causal, fewer queries", shapes: [[1, 2, 3], [1, 4, 3], [1, 4, 2]]) {
      scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true, scale: 0.7)
    },
    OpCase(name: "attention mask", shapes: [[2, 3, 2], [2, 4, 2], [2, 4, 3]]) {
      scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: someMask)
    },
    OpCase(name: "multiHeadAttention causal", shapes: [[2, 4, 12]]) {
      multiHeadAttention(qkv: $0[0], heads: 2, isCausal: true)
    },
    OpCase(name: "where", shapes: [[3, 4], [4]]) { Tensor.where(someMask, $0[0], $0[1]) },
    OpCase(name: "maskedFill", shapes: [[2, 3, 4]]) { $0[0].maskedFill(someMask, with: -5) },
    OpCase(name: "lowerTriangle", shapes: [[2, 3, 4]]) { $0[0].lowerTriangle(diagonal: -1) },
    OpCase(name: "upperTriangle", shapes: [[4, 3]]) { $0[0].upperTriangle(diagonal: 1) },
    OpCase(name: "maximum", shapes: [[3, 4], [4]]) { Tensor.maximum($0[0], $0[1]) },
    OpCase(name: "minimum", shapes: [[3, 1], [3, 4]]) { Tensor.minimum($0[0], $0[1]) },
    OpCase(name: "clamped", shapes: [[4, 5]]) { $0[0].clamped(min: -0.5, max: 0.7) },
    OpCase(name: "min", shapes: [[3, 4]]) { $0[0].min(axes: [0]) },
    OpCase(name: "cumulativeSum", shapes: [[3, 4, 2]]) { $0[0].cumulativeSum(axis: 1) },
    OpCase(name: "stacked", shapes: [[3, 2], [3, 2]]) { Tensor.stacked($0, axis: -1) },
    OpCase(name: "flipped", shapes: [[3, 2, 4]]) { $0[0].flipped(axes: [0, 2]) },
    OpCase(name: "sliced with step", shapes: [[3, 7]]) { $0[0].sliced(axis: 1, start: 1, end: 6, step: 2) },
    OpCase(name: "crossEntropy smoothing, ignore", shapes: [[5, 4]]) {
      crossEntropy($0[0], labels: IndexTensor([0, 3, -1, 2, 3]), ignoreIndex: -1, labelSmoothing: 0.2)
    },
    OpCase(name: "crossEntropy none", shapes: [[3, 4]]) {
      crossEntropy($0[0], labels: IndexTensor([1, 0, 3]), labelSmoothing: 0.1, reduction: .none)
    },
    OpCase(name: "nllLoss", shapes: [[4, 3]]) {
      nllLoss($0[0].logSoftmax(), labels: IndexTensor([2, 7, 0, 1]), ignoreIndex: 7, reduction: .sum)
    },
    OpCase(name: "huberLoss", shapes: [[4, 5], [4, 5]]) { huberLoss($0[0], $0[1], delta: 0.8) },
    OpCase(name: "l1Loss", shapes: [[4, 5], [5]]) { l1Loss($0[0], $0[1], reduction: .sum) },
  ]

  @Test(arguments: cases)
  func backwardMatchesFiniteDifferences(_ op: OpCase) {
    var rng = SeededGenerator(seed: 7)
    let inputs = op.shapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
    let result = checkGradients(of: op.f, at: inputs)
    #expect(result.passed, "\(op.name): \(result)")
  }

  /// Float runs the same kernels: the attention gradient agrees with finite differences at Float's
  /// precision.
  @Test func floatAttentionGradient() {
    var rng = SeededGenerator(seed: 3)
    let inputs = [[1, 2, 4, 3], [1, 2, 4, 3], [1, 2, 4, 3]].map {
      Tensor<Float>.randomNormal($0, using: &rng)
    }
    let result = checkGradients(
      of: { scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true) }, at: inputs,
      epsilon: 1e-2, tolerance: 2e-3)
    #expect(result.passed, "\(result)")
  }

  /// embedding: rows by index; the gradient of a repeated row is the sum of its upstream rows.
  @Test func embeddingAccumulatesRepeatedIndices() {
    let weight = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [3, 2], requiresGrad: true)
    let out = embedding(IndexTensor([2, 0, 2]), weight: weight)
    #expect(out.scalars == [5, 6, 1, 2, 5, 6])
    out.backward(gradient: Tensor([1, 10, 100, 1000, 2, 20], shape: [3, 2]))
    // row 0 ← upstream row 1; row 1 ← nothing; row 2 ← rows 0 and 2: (1 + 2, 10 + 20).
    #expect(weight.grad!.scalars == [100, 1000, 0, 0, 3, 30])
  }

  /// layerNorm: [1, 2, 3] has μ = 2, σ² = 2/3, so x̂ = (x − 2)/√(2/3 + eps).
  @Test func layerNormValues() {
    let x = Tensor<Double>([1, 2, 3], shape: [1, 3])
    let y = layerNorm(x, normalizedShape: [3], weight: Tensor([1, 2, 3]), bias: Tensor([0, 0, 1]), eps: 0)
    let s = (2.0 / 3).squareRoot()
    let expected = [-1 / s, 0, 3 / s + 1]
    for (a, b) in zip(y.scalars, expected) { #expect(Swift.abs(a - b) < 1e-12) }
  }

  /// argmax: the first of tied maxima, NaN counts as largest, and all-axes indices are row-major.
  @Test func argmaxValues() {
    let x = Tensor<Double>([1, 5, 5, 0, -1, .nan, 2, 3], shape: [2, 4])
    #expect(x.argmax(axis: 1) == IndexTensor([1, 1]))
    #expect(x.argmax(axis: 0, keepingDimensions: true) == IndexTensor([0, 1, 0, 1], shape: [1, 4]))
    #expect(x.argmax() == IndexTensor(scalar: 5))
    #expect(Tensor<Double>([3, 9, 9]).argmax() == IndexTensor(scalar: 1))
  }

  /// cumulativeSum, flipped, the triangles and stacked on small hand-checked inputs.
  @Test func smallValues() {
    let x = Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [2, 3])
    #expect(x.cumulativeSum(axis: 1).scalars == [1, 3, 6, 4, 9, 15])
    #expect(x.cumulativeSum(axis: 0).scalars == [1, 2, 3, 5, 7, 9])
    #expect(x.flipped(axes: [1]).scalars == [3, 2, 1, 6, 5, 4])
    #expect(x.flipped(axes: [0, 1]).scalars == [6, 5, 4, 3, 2, 1])
    #expect(x.lowerTriangle().scalars == [1, 0, 0, 4, 5, 0])
    #expect(x.upperTriangle(diagonal: 1).scalars == [0, 2, 3, 0, 0, 6])
    #expect(Tensor.stacked([x, x * 10], axis: 1).shape == [2, 2, 3])
    #expect(Tensor.stacked([x, x * 10], axis: 1).scalars == [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60])
    #expect(x.sliced(axis: 1, start: 0, step: 2).scalars == [1, 3, 4, 6])
    #expect(x.clamped(min: 2, max: 4.5).scalars == [2, 2, 3, 4, 4.5, 4.5])
    #expect(Tensor.maximum(x, Tensor([3])).scalars == [3, 3, 3, 4, 5, 6])
    #expect(x.min(axes: [1]).scalars == [1, 4])
  }

  /// With the causal mask, position t's output depends only on positions ≤ t: changing q, k or v at a
  /// later position leaves it unchanged, and the gradient of position t's output with respect to
  /// every later position is exactly 0. Checked for both the [B, H, T, d] and the packed form.
  @Test func causalMaskHidesTheFuture() {
    let (b, h, t, d) = (2, 2, 6, 4)
    var rng = SeededGenerator(seed: 11)
    let shape = [b, h, t, d]
    let q = Tensor<Double>.randomNormal(shape, using: &rng)
    let k = Tensor<Double>.randomNormal(shape, using: &rng)
    let v = Tensor<Double>.randomNormal(shape, using: &rng)
    let attend: ([Tensor<Double>]) -> Tensor<Double> = {
      scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true)
    }
    let reference = attend([q, k, v]).scalars
    for position in 0..<t {
      // Perturb every input at the positions after `position`: outputs at ≤ position do not move.
      let perturbed = [q, k, v].map { x in
        Tensor<Double>(
          x.scalars.enumerated().map { i, value in (i / d) % t > position ? value + 3 : value }, shape: shape)
      }
      let out = attend(perturbed).scalars
      for i in out.indices where (i / d) % t <= position { #expect(out[i] == reference[i]) }

      // The gradient of the outputs at `position` is 0 at every later position of q, k and v.
      let leaves = [q, k, v].map { Tensor<Double>($0.scalars, shape: shape, requiresGrad: true) }
      let upstream = Tensor<Double>(
        (0..<(b * h * t * d)).map { ($0 / d) % t == position ? 1 : 0 }, shape: shape)
      attend(leaves).backward(gradient: upstream)
      for leaf in leaves {
        let grad = leaf.grad!.scalars
        for i in grad.indices where (i / d) % t > position { #expect(grad[i] == 0) }
      }
      // The query at `position` matters once there are two keys to choose between.
      if position > 0 { #expect(leaves[0].grad!.scalars.contains { $0 != 0 }) }
    }

    // Packed [B, T, 3C]: the same property through multiHeadAttention.
    let c = h * d
    let qkv = Tensor<Double>.randomNormal([b, t, 3 * c], using: &rng)
    for position in 0..<t {
      let leaf = Tensor<Double>(qkv.scalars, shape: qkv.shape, requiresGrad: true)
      let out = multiHeadAttention(qkv: leaf, heads: h, isCausal: true)
      let upstream = Tensor<Double>(
        (0..<(b * t * c)).map { ($0 / c) % t == position ? 1 : 0 }, shape: [b, t, c])
      out.backward(gradient: upstream)
      let grad = leaf.grad!.scalars
      for i in grad.indices where (i / (3 * c)) % t > position { #expect(grad[i] == 0) }
    }
  }

  /// Multi-head attention written out per head with plain loops, independent of the library's
  /// kernels. For batch b, head h (columns h·d..<(h+1)·d of q, k and v in the packed [B, T, 3C]) and
  /// query i, over the keys j that i may attend to (j ≤ i when causal, and where `mask` is true):
  ///   s_ij = Σ_e q_ie·k_je / √d,  p_ij = exp(s_ij − max_j s) / Σ_j exp(s_ij − max_j s),
  ///   o_ie = Σ_j p_ij·v_je.
  /// Backward, for the upstream gradient G of o:
  ///   ∂v_je = Σ_i p_ij·G_ie,  dp_ij = Σ_e G_ie·v_je,  ds_ij = p_ij·(dp_ij − Σ_j' p_ij'·dp_ij'),
  ///   ∂q_ie = Σ_j ds_ij·k_je / √d,  ∂k_je = Σ_i ds_ij·q_ie / √d.
  /// Returns o [B, T, C] and ∂qkv [B, T, 3C], both row-major.
  static func naiveMultiHeadAttention(
    qkv: [Double], upstream: [Double], b: Int, t: Int, heads: Int, d: Int, isCausal: Bool,
    mask: ((Int, Int) -> Bool)? = nil
  ) -> (output: [Double], gradient: [Double]) {
    let c = heads * d
    let scale = 1 / Double(d).squareRoot()
    func q(_ n: Int, _ i: Int, _ e: Int) -> Int { (n * t + i) * 3 * c + e }  // offsets into qkv
    func k(_ n: Int, _ j: Int, _ e: Int) -> Int { (n * t + j) * 3 * c + c + e }
    func v(_ n: Int, _ j: Int, _ e: Int) -> Int { (n * t + j) * 3 * c + 2 * c + e }
    func o(_ n: Int, _ i: Int, _ e: Int) -> Int { (n * t + i) * c + e }
    var output = [Double](repeating: 0, count: b * t * c)
    var gradient = [Double](repeating: 0, count: b * t * 3 * c)
    for n in 0..<b {
      for h in 0..<heads {
        let columns = (h * d)..<((h + 1) * d)
        for i in 0..<t {
          let keys = (0..<t).filter { j in (!isCausal || j <= i) && (mask?(i, j) ?? true) }
          if keys.isEmpty { continue }
          var scores = keys.map { j in
            columns.reduce(0.0) { $0 + qkv[q(n, i, $1)] * qkv[k(n, j, $1)] } * scale
          }
          let largest = scores.max()!
          scores = scores.map { Foundation.exp($0 - largest) }
          let total = scores.reduce(0, +)
          let p = scores.map { $0 / total }
          for (a, j) in keys.enumerated() {
            for e in columns { output[o(n, i, e)] += p[a] * qkv[v(n, j, e)] }
          }
          let dp = keys.map { j in columns.reduce(0.0) { $0 + upstream[o(n, i, $1)] * qkv[v(n, j, $1)] } }
          let centre = zip(p, dp).reduce(0.0) { $0 + $1.0 * $1.1 }
          for (a, j) in keys.enumerated() {
            let ds = p[a] * (dp[a] - centre)
            for e in columns {
              gradient[v(n, j, e)] += p[a] * upstream[o(n, i, e)]
              gradient[q(n, i, e)] += ds * qkv[k(n, j, e)] * scale
              gradient[k(n, j, e)] += ds * qkv[q(n, i, e)] * scale
            }
          }
        }
      }
    }
    return (output, gradient)
  }

  /// The packed form against the naive per-head reference above, forward and gradient, causal and
  /// not, and with a boolean mask [T, T] that broadcasts over batch and heads (each query keeps its
  /// own key, so no row is empty).
  @Test(arguments: [(true, false), (false, false), (false, true)])
  func multiHeadAttentionMatchesANaivePerHeadReference(isCausal: Bool, masked: Bool) {
    let (b, t, h, d) = (2, 5, 3, 2)
    let c = h * d
    var rng = SeededGenerator(seed: 5)
    let values = Tensor<Double>.randomNormal([b, t, 3 * c], using: &rng).scalars
    let upstream = Tensor<Double>.randomNormal([b, t, c], using: &rng).scalars
    let allowed: ((Int, Int) -> Bool)? = masked ? { i, j in i == j || (i + 2 * j) % 3 != 0 } : nil
    let mask = allowed.map { allowed in
      MaskTensor((0..<(t * t)).map { allowed($0 / t, $0 % t) }, shape: [t, t])
    }
    let packed = Tensor<Double>(values, shape: [b, t, 3 * c], requiresGrad: true)
    let output = multiHeadAttention(qkv: packed, heads: h, mask: mask, isCausal: isCausal)
    output.backward(gradient: Tensor<Double>(upstream, shape: [b, t, c]))
    let reference = Self.naiveMultiHeadAttention(
      qkv: values, upstream: upstream, b: b, t: t, heads: h, d: d, isCausal: isCausal, mask: allowed)
    #expect(output.shape == [b, t, c])
    #expect(zip(output.scalars, reference.output).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
    #expect(zip(packed.grad!.scalars, reference.gradient).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
    // The reference is not vacuous: every head's output and every part of the gradient moves.
    #expect(reference.output.allSatisfy { $0 != 0 } && reference.gradient.contains { $0 != 0 })
  }

  /// A row whose keys are all masked attends to nothing: output 0, gradient 0 (PyTorch's CPU kernel).
  @Test func fullyMaskedRowIsZero() {
    let q = Tensor<Double>([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
    let kv = Tensor<Double>([0.5, -1, 2, 1], shape: [2, 2], requiresGrad: true)
    let mask = MaskTensor([true, true, false, false], shape: [2, 2])
    let out = scaledDotProductAttention(query: q, key: kv, value: kv, mask: mask)
    #expect(Array(out.scalars[2...]) == [0, 0])
    #expect(out.scalars.allSatisfy { $0.isFinite })
    out.sum().backward()
    #expect(Array(q.grad!.scalars[2...]) == [0, 0])
  }

  /// Every v2 fixture case outside the convolution issue's ops passes in Double (1e-9) and Float (1e-4).
  @Test func v2FixtureTransformerCases() throws {
    let url = try #require(
      Bundle.module.url(forResource: "torch_ops_v2_seed0", withExtension: "json", subdirectory: "Fixtures"))
    let fixture = try Fixture(contentsOf: url)
    let convolutionOps: Set<String> = [
      "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "flatten",
    ]
    let results = fixture.cases.filter { !convolutionOps.contains($0.op) }.map { ConformanceRunner().run($0) }
    #expect(results.count == 31)
    for result in results { #expect(result.passed, "\(result)") }
  }
}
