import Foundation
import Testing
import TorchConformance

@testable import Awesomegrad

/// The fused, tiled attention kernel (FlashAttention) against the two-product kernel and against
/// finite differences; its rules for masks, fully masked rows and blocks, and NaN; its bits at 1, 2
/// and 3 threads; the memory it holds; the KV-cache entry point; and the fixtures through it.
///
/// Both kernels compute, per (batch, head), O = softmax(c·Q·Kᵀ, masked)·V and its gradients; they
/// differ only in rounding (the fused one normalises once at the end and exponentiates with
/// `Float.nonPositiveExp` in Float), so they agree to 1e-11 in Double and 1e-5 in Float.
@Suite struct FlashAttentionTests {
  typealias Tiling = FlashAttention.Tiling

  /// One attention call: shapes of q, k, v, the options, and (for tile edges) a forced tiling.
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    var query: [Int]
    var key: [Int]
    var value: [Int]
    var isCausal = false
    var mask: MaskTensor? = nil
    var scale: Double? = nil
    var tiling: Tiling? = nil
    /// multiHeadAttention over a packed [B, T, 3C] with this many heads (q, k, v then unused).
    var packedHeads: Int? = nil
    var testDescription: String { name }
  }

  /// A mask over [rows, columns] with about a third false (a fixed pattern), plus `fullyMaskedRows`
  /// all false.
  static func pattern(rows: Int, columns: Int, fullyMaskedRows: [Int] = []) -> MaskTensor {
    MaskTensor(
      (0..<(rows * columns)).map { i in
        !fullyMaskedRows.contains(i / columns) && (i * 7 + i / columns) % 3 != 0
      }, shape: [rows, columns])
  }

  /// A mask that hides keys `hiddenKeys` from every query: with 4-column tiles, key tile 1 (keys 4..<8)
  /// is a fully masked block.
  static func hiding(rows: Int, columns: Int, hiddenKeys: Range<Int>) -> MaskTensor {
    MaskTensor((0..<(rows * columns)).map { !hiddenKeys.contains($0 % columns) }, shape: [rows, columns])
  }

  static let small = Tiling(queryTile: 4, keyTile: 3)

  static let cases: [Case] = {
    var cases: [Case] = []
    // Tile edges of the standard 128 × 128 tiles: lengths 1, 127, 128, 129, self-attention.
    for t in [1, 127, 128, 129] {
      cases.append(Case(name: "causal T=\(t)", query: [2, t, 8], key: [2, t, 8], value: [2, t, 5], isCausal: true))
    }
    cases.append(Case(name: "not causal T=129", query: [1, 2, 129, 4], key: [1, 2, 129, 4], value: [1, 2, 129, 4]))
    // L ≠ S across tile edges, causal (top-left) and not.
    cases.append(Case(name: "L=5 S=130", query: [2, 5, 6], key: [2, 130, 6], value: [2, 130, 3]))
    cases.append(
      Case(name: "causal L=130 S=7", query: [1, 130, 6], key: [1, 7, 6], value: [1, 7, 6], isCausal: true, scale: 0.3))
    cases.append(
      Case(name: "causal L=3 S=200", query: [1, 3, 6], key: [1, 200, 6], value: [1, 200, 6], isCausal: true))
    // Small tiles (4 × 3): lengths 1, tile − 1, tile, tile + 1 on both axes, many tiles.
    for (l, s) in [(1, 1), (3, 2), (4, 3), (5, 4), (11, 11), (9, 14), (14, 5)] {
      cases.append(
        Case(
          name: "small tiles causal L=\(l) S=\(s)", query: [2, l, 3], key: [2, s, 3], value: [2, s, 2], isCausal: true,
          tiling: small))
      cases.append(
        Case(name: "small tiles L=\(l) S=\(s)", query: [1, l, 3], key: [1, s, 3], value: [1, s, 4], tiling: small))
    }
    // Masks: a pattern with fully masked rows; a fully masked block; both with the causal rule; a
    // mask per batch; tiles of size 1.
    cases.append(
      Case(
        name: "mask with fully masked rows", query: [2, 11, 3], key: [2, 13, 3], value: [2, 13, 3],
        mask: pattern(rows: 11, columns: 13, fullyMaskedRows: [0, 5, 6]), tiling: small))
    cases.append(
      Case(
        name: "mask with a fully masked block", query: [1, 10, 3], key: [1, 12, 3], value: [1, 12, 3],
        mask: hiding(rows: 10, columns: 12, hiddenKeys: 3..<6), tiling: small))
    cases.append(
      Case(
        name: "mask and causal", query: [2, 12, 4], key: [2, 12, 4], value: [2, 12, 4], isCausal: true,
        mask: pattern(rows: 12, columns: 12, fullyMaskedRows: [7]), tiling: small))
    cases.append(
      Case(
        name: "mask per batch", query: [2, 2, 9, 3], key: [2, 2, 10, 3], value: [2, 2, 10, 3],
        mask: MaskTensor((0..<180).map { ($0 * 5 + $0 / 13) % 4 != 0 }, shape: [2, 1, 9, 10]), tiling: small))
    cases.append(
      Case(
        name: "tiles of one", query: [1, 5, 2], key: [1, 6, 2], value: [1, 6, 3], isCausal: true,
        mask: pattern(rows: 5, columns: 6, fullyMaskedRows: [2]), tiling: Tiling(queryTile: 1, keyTile: 1)))
    cases.append(
      Case(
        name: "mask at standard tiles", query: [1, 140, 4], key: [1, 150, 4], value: [1, 150, 4],
        mask: hiding(rows: 140, columns: 150, hiddenKeys: 0..<128)))
    // The packed multi-head layout.
    cases.append(Case(name: "packed heads T=130", query: [2, 130, 36], key: [], value: [], isCausal: true, packedHeads: 3))
    cases.append(
      Case(name: "packed heads small tiles", query: [2, 13, 12], key: [], value: [], isCausal: true, tiling: small, packedHeads: 2))
    return cases
  }()

  /// The output and the gradients of Σ out·u for the inputs, by `path`.
  static func evaluate<Scalar: TensorScalar>(
    _ testCase: Case, _ inputs: [Tensor<Scalar>], upstream: Tensor<Scalar>, path: AttentionKernel
  ) -> [[Scalar]] {
    let leaves = inputs.map { Tensor<Scalar>($0.storage, requiresGrad: true) }
    let out = withAttentionKernel(path) {
      Tiling.$forced.withValue(testCase.tiling) { attention(testCase, leaves) }
    }
    withAttentionKernel(path) {
      Tiling.$forced.withValue(testCase.tiling) { out.backward(gradient: upstream) }
    }
    return [out.scalars] + leaves.map { $0.grad?.scalars ?? [] }
  }

  static func attention<Scalar: TensorScalar>(_ testCase: Case, _ x: [Tensor<Scalar>]) -> Tensor<Scalar> {
    if let heads = testCase.packedHeads {
      return multiHeadAttention(qkv: x[0], heads: heads, mask: testCase.mask, isCausal: testCase.isCausal)
    }
    return scaledDotProductAttention(
      query: x[0], key: x[1], value: x[2], mask: testCase.mask, isCausal: testCase.isCausal, scale: testCase.scale)
  }

  static func inputs<Scalar: TensorScalar>(_ testCase: Case, seed: UInt64) -> [Tensor<Scalar>] {
    var rng = SeededGenerator(seed: seed)
    let shapes = testCase.packedHeads == nil ? [testCase.query, testCase.key, testCase.value] : [testCase.query]
    return shapes.map { Tensor<Scalar>.randomNormal($0, using: &rng) }
  }

  /// The largest |a − b| / (1 + |b|) over paired arrays; NaN where they disagree about NaN.
  static func deviation<Scalar: TensorScalar>(_ a: [[Scalar]], _ b: [[Scalar]]) -> Double {
    var worst = 0.0
    for (x, y) in zip(a, b) {
      if x.count != y.count { return .infinity }
      for (u, v) in zip(x, y) {
        if u.isNaN != v.isNaN { return .nan }
        if !u.isNaN { worst = Swift.max(worst, Double(Swift.abs(u - v)) / (1 + Double(Swift.abs(v)))) }
      }
    }
    return worst
  }

  func compareWithTwoProducts<Scalar: TensorScalar>(_ testCase: Case, as _: Scalar.Type, tolerance: Double) {
    let x: [Tensor<Scalar>] = Self.inputs(testCase, seed: 1)
    let shape = Self.attention(testCase, x).shape
    var rng = SeededGenerator(seed: 2)
    let upstream = Tensor<Scalar>.randomNormal(shape, using: &rng)
    let fused = Self.evaluate(testCase, x, upstream: upstream, path: .fused)
    let reference = Self.evaluate(testCase, x, upstream: upstream, path: .twoProducts)
    let worst = Self.deviation(fused, reference)
    #expect(worst <= tolerance, "\(testCase.name) (\(Scalar.self)): deviation \(worst)")
  }

  @Test(arguments: cases)
  func fusedMatchesTwoProductsInDouble(_ testCase: Case) {
    compareWithTwoProducts(testCase, as: Double.self, tolerance: 1e-11)
  }

  @Test(arguments: cases)
  func fusedMatchesTwoProductsInFloat(_ testCase: Case) {
    compareWithTwoProducts(testCase, as: Float.self, tolerance: 1e-5)
  }

  /// The fused kernel's gradients against central differences (Double), in small tiles so that every
  /// case crosses tile edges, with the causal rule, masks (fully masked rows and blocks), L ≠ S and
  /// the packed layout.
  @Test(arguments: cases.filter { $0.tiling != nil })
  func fusedGradientsMatchFiniteDifferences(_ testCase: Case) {
    let x: [Tensor<Double>] = Self.inputs(testCase, seed: 3)
    let result = withAttentionKernel(.fused) {
      Tiling.$forced.withValue(testCase.tiling) { checkGradients(of: { Self.attention(testCase, $0) }, at: x) }
    }
    #expect(result.passed, "\(testCase.name): \(result)")
  }

  /// The same at the standard tiles, over one tile edge (T = 129, causal), in Float as well.
  @Test func fusedGradientsAtStandardTiles() {
    let testCase = Case(name: "T=129", query: [1, 129, 2], key: [1, 129, 2], value: [1, 129, 2], isCausal: true)
    let x: [Tensor<Double>] = Self.inputs(testCase, seed: 4)
    let result = withAttentionKernel(.fused) {
      checkGradients(of: { Self.attention(testCase, $0) }, at: x)
    }
    #expect(result.passed, "\(result)")
    let small = Case(name: "Float", query: [1, 9, 3], key: [1, 9, 3], value: [1, 9, 3], isCausal: true)
    let y: [Tensor<Float>] = Self.inputs(small, seed: 5)
    let floatResult = withAttentionKernel(.fused) {
      Tiling.$forced.withValue(Self.small) {
        checkGradients(of: { Self.attention(small, $0) }, at: y, epsilon: 1e-2, tolerance: 2e-3)
      }
    }
    #expect(floatResult.passed, "\(floatResult)")
  }

  /// A fully masked row gives output 0 and gradient 0 through the fused kernel, as through the other
  /// (PyTorch's CPU rule); so does a row whose allowed keys all score −∞.
  @Test func fullyMaskedRowsAreZero() {
    let q = Tensor<Double>((0..<12).map { Double($0) / 7 }, shape: [6, 2], requiresGrad: true)
    let kv = Tensor<Double>((0..<14).map { Double($0 % 5) - 2 }, shape: [7, 2], requiresGrad: true)
    let mask = Self.pattern(rows: 6, columns: 7, fullyMaskedRows: [1, 4])
    let out = withAttentionKernel(.fused) {
      Tiling.$forced.withValue(Self.small) { scaledDotProductAttention(query: q, key: kv, value: kv, mask: mask) }
    }
    #expect(Array(out.scalars[2..<4]) == [0, 0])
    #expect(Array(out.scalars[8..<10]) == [0, 0])
    #expect(out.scalars.allSatisfy { $0.isFinite })
    out.sum().backward()
    #expect(Array(q.grad!.scalars[2..<4]) == [0, 0])
    #expect(Array(q.grad!.scalars[8..<10]) == [0, 0])
    #expect(kv.grad!.scalars.allSatisfy { $0.isFinite })
  }

  /// Masked entries count as −∞ before the NaN check (PyTorch's order), in both kernels: a NaN key
  /// that the mask hides changes nothing, and one that it allows makes the row NaN.
  @Test(arguments: [AttentionKernel.fused, .twoProducts])
  func maskComesBeforeTheNaNCheck(_ path: AttentionKernel) {
    var rng = SeededGenerator(seed: 9)
    let q = Tensor<Double>.randomNormal([5, 3], using: &rng)
    let k = Tensor<Double>.randomNormal([6, 3], using: &rng)
    let v = Tensor<Double>.randomNormal([6, 2], using: &rng)
    var poisoned = k.scalars
    poisoned[3 * 3 + 1] = .nan  // key 3
    let kNaN = Tensor<Double>(poisoned, shape: [6, 3])
    let hideKey3 = MaskTensor((0..<30).map { $0 % 6 != 3 }, shape: [5, 6])
    let run = { (key: Tensor<Double>, mask: MaskTensor?) in
      withAttentionKernel(path) {
        Tiling.$forced.withValue(Self.small) {
          scaledDotProductAttention(query: q, key: key, value: v, mask: mask).scalars
        }
      }
    }
    let clean = run(k, hideKey3), hidden = run(kNaN, hideKey3)
    for (a, b) in zip(hidden, clean) { #expect(Swift.abs(a - b) < 1e-12) }
    #expect(run(kNaN, nil).allSatisfy { $0.isNaN })
    // Under the causal rule only rows 3 and 4 see key 3: they are NaN, rows 0-2 are not.
    let causal = withAttentionKernel(path) {
      Tiling.$forced.withValue(Self.small) {
        scaledDotProductAttention(query: q, key: kNaN, value: v, isCausal: true).scalars
      }
    }
    #expect(causal[0..<6].allSatisfy { !$0.isNaN })
    #expect(causal[6..<10].allSatisfy { $0.isNaN })
  }

  /// The same bits at 1, 2 and 3 threads: the fused kernel with 1 and with 8 (batch, head) pairs (the
  /// backward splits the keys of few pairs into groups), and the two-product kernel.
  @Test func sameBitsAtEveryThreadCount() {
    let cases = [
      Case(name: "fused, one pair", query: [1, 300, 8], key: [1, 300, 8], value: [1, 300, 8], isCausal: true),
      Case(name: "fused, eight pairs", query: [2, 4, 200, 8], key: [2, 4, 260, 8], value: [2, 4, 260, 8]),
      Case(
        name: "fused, masked", query: [3, 140, 4], key: [3, 140, 4], value: [3, 140, 4], isCausal: true,
        mask: Self.pattern(rows: 140, columns: 140, fullyMaskedRows: [3])),
      Case(name: "packed", query: [2, 150, 36], key: [], value: [], isCausal: true, packedHeads: 3),
    ]
    for (path, testCase) in cases.map({ (AttentionKernel.fused, $0) })
      + [(.twoProducts, Case(name: "two products", query: [3, 2, 64, 8], key: [3, 2, 64, 8], value: [3, 2, 64, 8]))]
    {
      let x: [Tensor<Float>] = Self.inputs(testCase, seed: 6)
      let shape = Self.attention(testCase, x).shape
      var rng = SeededGenerator(seed: 7)
      let upstream = Tensor<Float>.randomNormal(shape, using: &rng)
      var results: [[[Float]]] = []
      for threads in [1, 2, 3] {
        setThreadCount(threads)
        results.append(Self.evaluate(testCase, x, upstream: upstream, path: path))
      }
      let bits = results.map { $0.map { $0.map(\.bitPattern) } }
      #expect(bits[0] == bits[1] && bits[1] == bits[2], "\(testCase.name): bits differ between thread counts")
    }
  }

  /// At long context the [L, S] matrix is never allocated: every allocation of a fused call and its
  /// backward (T = 2048, the default dispatch) together is smaller than one L·S matrix, while the
  /// two-product path allocates that matrix (the recorder sees it, so it would see it in the other).
  @Test func longContextNeverAllocatesTheScoreMatrix() {
    let t = 2048, d = 16
    var rng = SeededGenerator(seed: 8)
    let q = Tensor<Float>.randomNormal([1, t, d], using: &rng).requireGrad()
    let k = Tensor<Float>.randomNormal([1, t, d], using: &rng).requireGrad()
    let v = Tensor<Float>.randomNormal([1, t, d], using: &rng).requireGrad()
    let matrixBytes = t * t * MemoryLayout<Float>.stride
    let fused = AttentionWorkspace()
    AttentionWorkspace.$recorder.withValue(fused) {
      scaledDotProductAttention(query: q, key: k, value: v, isCausal: true).sum().backward()
    }
    #expect(fused.largestAllocation > 0)
    #expect(fused.largestAllocation * 8 <= matrixBytes, "largest \(fused.largestAllocation) bytes")
    #expect(fused.totalAllocated < matrixBytes / 2, "total \(fused.totalAllocated) bytes")
    #expect(q.grad!.scalars.allSatisfy { $0.isFinite })

    let unfused = AttentionWorkspace()
    AttentionWorkspace.$recorder.withValue(unfused) {
      withAttentionKernel(.twoProducts) {
        _ = scaledDotProductAttention(query: q.detached(), key: k.detached(), value: v.detached(), isCausal: true)
      }
    }
    #expect(unfused.largestAllocation >= matrixBytes)
  }

  /// Hidden tiles are skipped, not computed and masked: causal T = 1024 in tiles of 128 computes the
  /// 8·9/2 = 36 tiles on and below the diagonal of 64, forward and again backward; a mask that also
  /// hides keys 128..<256 from every query removes the 7 tiles of that key column below the diagonal.
  @Test func hiddenTilesAreSkipped() {
    let t = 1024
    var rng = SeededGenerator(seed: 10)
    let x = (0..<3).map { _ in Tensor<Float>.randomNormal([1, t, 4], using: &rng).requireGrad() }
    func tiles(_ mask: MaskTensor?) -> Int {
      let recorder = AttentionWorkspace()
      AttentionWorkspace.$recorder.withValue(recorder) {
        withAttentionKernel(.fused) {
          scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask, isCausal: true).sum().backward()
        }
      }
      return recorder.tilesComputed
    }
    #expect(tiles(nil) == 2 * 36)
    #expect(tiles(Self.hiding(rows: t, columns: t, hiddenKeys: 128..<256)) == 2 * (36 - 7))
  }

  /// The dispatch: the two-product kernel below the measured crossovers (192 keys causal, 512 not),
  /// the fused one from them on.
  @Test func dispatchFollowsTheCrossover() {
    func geometry(keys: Int, isCausal: Bool) -> AttentionGeometry<Float> {
      AttentionGeometry(
        batch: 1, queries: keys, keys: keys, depth: 8, valueDepth: 8, heads: 1,
        query: .init(base: 0, outer: 0, inner: 0, leading: 8), key: .init(base: 0, outer: 0, inner: 0, leading: 8),
        value: .init(base: 0, outer: 0, inner: 0, leading: 8), output: .init(base: 0, outer: 0, inner: 0, leading: 8),
        scale: 1, isCausal: isCausal, mask: nil)
    }
    #expect(AttentionKernel.choose(for: geometry(keys: 64, isCausal: true)) == .twoProducts)
    #expect(AttentionKernel.choose(for: geometry(keys: 191, isCausal: true)) == .twoProducts)
    #expect(AttentionKernel.choose(for: geometry(keys: 192, isCausal: true)) == .fused)
    #expect(AttentionKernel.choose(for: geometry(keys: 511, isCausal: false)) == .twoProducts)
    #expect(AttentionKernel.choose(for: geometry(keys: 512, isCausal: false)) == .fused)
    #expect(AttentionKernel.choose(for: geometry(keys: 0, isCausal: true)) == .twoProducts)
    #expect(withAttentionKernel(.fused) { AttentionKernel.choose(for: geometry(keys: 64, isCausal: true)) } == .fused)
    #expect(
      withAttentionKernel(.twoProducts) { AttentionKernel.choose(for: geometry(keys: 4096, isCausal: true)) }
        == .twoProducts)
  }

  /// Every attention case of every op fixture, in Double and Float, through the fused kernel (at the
  /// standard tiles and at tiles of 2 × 3) and through the default dispatch.
  @Test func fixtureAttentionCasesPassThroughTheFusedKernel() throws {
    var count = 0
    for name in ["torch_ops_seed0", "torch_ops_seed1", "torch_ops_v2_seed0", "torch_ops_edge_seed0"] {
      let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
      for testCase in try Fixture(contentsOf: url).cases where testCase.op == "scaled_dot_product_attention" {
        count += 1
        for path in [AttentionKernel.fused, .twoProducts] {
          for tiling in [nil, Tiling(queryTile: 2, keyTile: 3)] {
            let result = withAttentionKernel(path) {
              Tiling.$forced.withValue(tiling) { ConformanceRunner().run(testCase) }
            }
            #expect(result.passed, "\(name) \(path) \(String(describing: tiling)): \(result)")
          }
        }
      }
    }
    #expect(count == 8)
  }
}

/// cachedAttention, the KV-cache entry point: the fused kernel over the first `length` positions of a
/// cache, with grouped key/value heads.
@Suite struct CachedAttentionTests {
  /// `cache` [B, Hkv, capacity, d] with each head repeated `groups` times and cut to `length`
  /// positions: [B, Hkv·groups, length, d] (Hugging Face's repeat_kv).
  static func repeated(_ cache: Tensor<Double>, groups: Int, length: Int) -> Tensor<Double> {
    let (b, h, capacity, d) = (cache.shape[0], cache.shape[1], cache.shape[2], cache.shape[3])
    var values: [Double] = []
    for batch in 0..<b {
      for head in 0..<(h * groups) {
        let start = ((batch * h + head / groups) * capacity) * d
        values += cache.scalars[start..<(start + length * d)]
      }
    }
    return Tensor(values, shape: [b, h * groups, length, d])
  }

  /// n new queries over a cache of `length` positions (capacity beyond it filled with NaN, which must
  /// never be read) equal scaledDotProductAttention over the repeated heads with the mask
  /// s ≤ length − n + i; prefill (n = length), chunks and single-token decoding, with a padding mask.
  @Test(arguments: [(1, 1), (1, 9), (4, 9), (9, 9), (1, 200), (130, 140)])
  func matchesScaledDotProductAttention(n: Int, length: Int) {
    let (b, hq, hkv, d, capacity) = (2, 4, 2, 4, length + 3)
    var rng = SeededGenerator(seed: UInt64(n * 1000 + length))
    func cache() -> Tensor<Double> {
      let filled = Tensor<Double>.randomNormal([b, hkv, capacity, d], using: &rng).scalars.enumerated().map {
        ($0.offset / d) % capacity < length ? $0.element : .nan
      }
      return Tensor(filled, shape: [b, hkv, capacity, d])
    }
    let (keys, values) = (cache(), cache())
    let query = Tensor<Double>.randomNormal([b, hq, n, d], using: &rng)
    // Batch 1 is left-padded by 2 positions: nothing attends to them.
    let padding = MaskTensor(
      (0..<(b * length)).map { $0 / length == 0 || $0 % length >= 2 || length <= 2 }, shape: [b, 1, 1, length])
    let out = cachedAttention(query: query, keyCache: keys, valueCache: values, length: length, mask: padding)
    let causal = MaskTensor(
      (0..<(n * length)).map { ($0 % length) <= length - n + $0 / length }, shape: [1, 1, n, length])
    let reference = scaledDotProductAttention(
      query: query, key: Self.repeated(keys, groups: hq / hkv, length: length),
      value: Self.repeated(values, groups: hq / hkv, length: length), mask: causal && padding)
    #expect(out.shape == [b, hq, n, d])
    for (x, y) in zip(out.scalars, reference.scalars) { #expect(Swift.abs(x - y) < 1e-12) }
  }

  /// Decoding token by token into a cache gives, at every step, the last row of full causal attention.
  @Test func decodingStepByStepEqualsCausalAttention() {
    let (t, d) = (20, 3)
    var rng = SeededGenerator(seed: 12)
    let q = Tensor<Float>.randomNormal([1, 1, t, d], using: &rng)
    let k = Tensor<Float>.randomNormal([1, 1, t, d], using: &rng)
    let v = Tensor<Float>.randomNormal([1, 1, t, d], using: &rng)
    let full = scaledDotProductAttention(query: q, key: k, value: v, isCausal: true).scalars
    for position in 0..<t {
      let row = Tensor<Float>(Array(q.scalars[(position * d)..<((position + 1) * d)]), shape: [1, 1, 1, d])
      let out = cachedAttention(query: row, keyCache: k, valueCache: v, length: position + 1)
      for x in 0..<d { #expect(Swift.abs(out.scalars[x] - full[position * d + x]) < 1e-6) }
    }
  }
}
