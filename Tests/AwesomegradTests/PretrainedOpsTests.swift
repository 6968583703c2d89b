import AwesomegradModels
import Foundation
import Testing

@testable import Awesomegrad

/// The core pieces the pretrained transformers need: the `[in, out]` linear map of GPT-2's Conv1D,
/// RMSNorm, rotary embeddings, layer norm over given weights, and memory-mapped safetensors.
@Suite struct PretrainedOpsTests {
  /// x·W + b with W stored [in, out] equals matmul + add, forward and every gradient.
  @Test func linearWithTransposedWeight() {
    var rng = SeededGenerator(seed: 1)
    let x = Tensor<Double>.randomNormal([2, 3, 4], using: &rng)
    let w = Tensor<Double>.randomNormal([4, 5], using: &rng)
    let b = Tensor<Double>.randomNormal([5], using: &rng)
    let fused = x.linear(transposedWeight: w, bias: b).scalars
    let composed = (x.matmul(w) + b).scalars
    #expect(zip(fused, composed).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
    let result = checkGradients(of: { $0[0].linear(transposedWeight: $0[1], bias: $0[2]) }, at: [x, w, b])
    #expect(result.passed, "\(result)")
  }

  /// y = x / √(mean(x²) + eps) ⊙ w. For x = [3, 4] (mean square 12.5) and w = [1, 2], eps = 0:
  /// y = [3/√12.5, 8/√12.5].
  @Test func rmsNorm() {
    let norm = RMSNorm<Double>(weight: Tensor([1, 2]), eps: 0)
    let y = norm(Tensor([3, 4], shape: [1, 2])).scalars
    #expect(Swift.abs(y[0] - 3 / 12.5.squareRoot()) < 1e-15 && Swift.abs(y[1] - 8 / 12.5.squareRoot()) < 1e-15)
    #expect(norm.namedParameters.map(\.name) == ["weight"])
    var rng = SeededGenerator(seed: 2)
    let x = Tensor<Double>.randomNormal([3, 5], using: &rng)
    let result = checkGradients(
      of: { RMSNorm(weight: $0[1], eps: 1e-5)($0[0]) }, at: [x, Tensor<Double>.randomNormal([5], using: &rng)])
    #expect(result.passed, "\(result)")
  }

  /// θⱼ = base^(−2j/d); the table holds cos and sin of p·θ, duplicated across the two halves.
  /// For d = 4, base 100: θ = [1, 0.1].
  @Test func rotaryTables() {
    let rope = RotaryEmbedding(dimensions: 4, base: 100)
    let (cos, sin) = rope.tables(positions: IndexTensor([0, 3]), as: Double.self)
    #expect(cos.shape == [2, 4])
    let (c3, c03, s3, s03) = (Foundation.cos(3.0), Foundation.cos(0.3), Foundation.sin(3.0), Foundation.sin(0.3))
    let expectedCos = [1.0, 1, 1, 1, c3, c03, c3, c03]
    let expectedSin = [0.0, 0, 0, 0, s3, s03, s3, s03]
    #expect(zip(cos.scalars, expectedCos).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
    #expect(zip(sin.scalars, expectedSin).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
  }

  /// rope rotates each pair (i, i + d/2) by its angle: x = [1, 0, 0, 0] at angle a becomes
  /// [cos a, 0, sin a, 0]; the score of two rotated vectors depends only on the distance between
  /// their positions; the gradient is the transposed rotation.
  @Test func rotaryEmbeddingRotatesHalves() {
    let rope = RotaryEmbedding(dimensions: 4, base: 100)
    let (cos, sin) = rope.tables(positions: IndexTensor([2]), as: Double.self)
    let y = Tensor<Double>([1, 0, 0, 0], shape: [1, 4]).rotaryEmbedded(cos: cos, sin: sin).scalars
    let (c2, s2) = (Foundation.cos(2.0), Foundation.sin(2.0))
    #expect(zip(y, [c2, 0, s2, 0]).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
    var rng = SeededGenerator(seed: 3)
    let q = Tensor<Double>.randomNormal([1, 4], using: &rng), k = Tensor<Double>.randomNormal([1, 4], using: &rng)
    func score(_ m: Int, _ n: Int) -> Double {
      let (cm, sm) = rope.tables(positions: IndexTensor([m]), as: Double.self)
      let (cn, sn) = rope.tables(positions: IndexTensor([n]), as: Double.self)
      return (q.rotaryEmbedded(cos: cm, sin: sm) * k.rotaryEmbedded(cos: cn, sin: sn)).sum().item()
    }
    #expect(Swift.abs(score(5, 2) - score(13, 10)) < 1e-12)
    let (c, s) = rope.tables(positions: IndexTensor([0, 1, 7]), as: Double.self)
    let result = checkGradients(of: { $0[0].rotaryEmbedded(cos: c, sin: s) }, at: [Tensor.randomNormal([2, 3, 4], using: &rng)])
    #expect(result.passed, "\(result)")
  }

  /// In Float the inverse frequencies are transformers' float32 1 / base^(Float(2j)/Float(d)).
  @Test func rotaryFloatFrequenciesAreFloat32() {
    let frequencies = RotaryEmbedding(dimensions: 16, base: 10000).inverseFrequencies(as: Float.self)
    for (j, f) in frequencies.enumerated() {
      let exponent = Float(2 * j) / 16
      #expect(Float(f) == 1 / Float(Foundation.pow(10000.0, Double(exponent))))
    }
  }

  /// A layer norm over given weights uses them, and registers them under PyTorch's names.
  @Test func layerNormOverGivenWeights() {
    let norm = LayerNorm<Double>(weight: Tensor([2, 2]), bias: Tensor([1, -1]), eps: 0)
    #expect(norm(Tensor([1, 3], shape: [1, 2])).scalars == [-1, 1])
    #expect(norm.namedParameters.map(\.name) == ["weight", "bias"])
  }

  /// A mapped file reads as the file read into memory: the same metadata, entries, values and errors
  /// (every malformed fixture), and a tensor larger than the decoding block is decoded whole, twice.
  @Test func mappedFilesReadAsFilesInMemory() throws {
    let path = try safeTensorsFixture("tensors.safetensors")
    let (mapped, read) = (try SafeTensorsFile(mappingContentsOf: path), try SafeTensorsFile(contentsOf: path))
    #expect(mapped.isMapped && !read.isMapped)
    #expect(mapped.metadata == read.metadata && mapped.entries == read.entries)
    for name in read.names { #expect(try mapped.doubles(name).values == read.doubles(name).values) }
    let malformed = URL(fileURLWithPath: try safeTensorsFixture("malformed/README")).deletingLastPathComponent()
    for file in try FileManager.default.contentsOfDirectory(atPath: malformed.path) where file.hasSuffix(".safetensors") {
      let p = malformed.appendingPathComponent(file).path
      var inMemory: CheckpointError? = nil, viaMapping: CheckpointError? = nil
      do { _ = try SafeTensorsFile(contentsOf: p) } catch { inMemory = error }
      do { _ = try SafeTensorsFile(mappingContentsOf: p) } catch { viaMapping = error }
      #expect(inMemory != nil && inMemory == viaMapping, "\(file)")
    }
    // Decoded in blocks of 6 bytes and 4 KiB (16 MiB outside tests), each released after it is read.
    for name in read.names where read.entries[name]!.dtype.isFloatingPoint {
      #expect(
        try mapped.storage(name, as: Float.self, releaseBlockBytes: 6).scalars
          == read.storage(name, as: Float.self).scalars, "\(name)")
    }
    let big = FileManager.default.temporaryDirectory.appendingPathComponent("awesomegrad-mapped-\(getpid()).safetensors")
    defer { try? FileManager.default.removeItem(at: big) }
    let values = Tensor<Float>((0..<5000).map { Float($0 % 2048) }, shape: [5000])
    try writeSafeTensors(["x": SafeTensorsWritable(values)], to: big.path)
    let file = try SafeTensorsFile(mappingContentsOf: big.path)
    #expect(try file.storage("x", as: Float.self, releaseBlockBytes: 4096).scalars == values.scalars)
    #expect(try file.storage("x", as: Float.self, releaseBlockBytes: 4096).scalars == values.scalars)  // re-read
    #expect(throws: CheckpointError.self) { try SafeTensorsFile(mappingContentsOf: "/nonexistent/x.safetensors") }
  }
}
