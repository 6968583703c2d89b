import AwesomegradModels
import Foundation
import Testing

@testable import Awesomegrad

/// The same bits at every thread count: whole training runs and each parallel kernel, at 1, 2, 3
/// (and 4) threads, compared bit for bit.
///
/// The thread count is process-wide and other tests run at the same time and set it too, so a run
/// "at 3 threads" may see another count for part of its work. That cannot hide a difference: the
/// claim under test is that no count, and no mix of counts, changes a bit. The sizes are chosen above
/// the kernels' grains, so the loops really are split (a reduction's chunks are fixed by its sizes
/// and run on the pool at any count above 1).
@Suite struct ThreadDeterminismTests {
  /// The bits of every tensor, in order.
  static func bits(_ tensors: [Tensor<Float>]) -> [[UInt32]] { tensors.map { $0.scalars.map(\.bitPattern) } }

  /// Runs `body` at 1, 2, 3 and 4 threads and expects the same bits from each, naming the first
  /// tensor that differs.
  static func expectSameAtEveryCount(
    _ name: String, counts: [Int] = [1, 2, 3, 4], _ body: () -> [Tensor<Float>],
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    var reference: [[UInt32]]?
    for threads in counts {
      setThreadCount(threads)
      let result = bits(body())
      guard let reference else {
        reference = result
        continue
      }
      let differing = zip(reference, result).enumerated().first { $0.element.0 != $0.element.1 }?.offset
      #expect(
        differing == nil, "\(name): tensor \(differing ?? -1) differs between 1 and \(threads) threads",
        sourceLocation: sourceLocation)
      #expect(reference.count == result.count, sourceLocation: sourceLocation)
    }
  }

  /// A small CNN (conv → batch norm → ReLU → max pool → conv → ReLU → avg pool → linear) trained for
  /// 3 AdamW steps on a fixed batch of 32 images: every parameter the same at 1, 2, 3 and 4 threads.
  @Test func cnnTrainsIdenticallyAtEveryThreadCount() {
    var data = SeededGenerator(seed: 7)
    let x = Tensor<Float>.randomNormal([32, 2, 16, 16], using: &data)
    let labels = (0..<32).map { _ in Int.random(in: 0..<10, using: &data) }
    Self.expectSameAtEveryCount("cnn") {
      var generator = SeededGenerator(seed: 1)
      let model = Sequential<Float>(
        Conv2d(inputChannels: 2, outputChannels: 8, kernelSize: 3, padding: 1, using: &generator),
        BatchNorm2d(features: 8), ReLU(), MaxPool2d(kernelSize: 2),
        Conv2d(inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1, using: &generator), ReLU(),
        AvgPool2d(kernelSize: 2), Flatten(), Linear(inputs: 256, outputs: 10, using: &generator))
      let optimizer = AdamW(model.parameters, learningRate: 1e-2)
      for _ in 0..<3 {
        optimizer.zeroGrad()
        crossEntropy(model(x), labels: labels).backward()
        clipGradientNorm(model.parameters, maxNorm: 1)
        optimizer.step()
      }
      return model.parameters
    }
  }

  /// A small char-GPT (2 layers, width 64, context 32, batch 8, tied embeddings, exact GELU)
  /// trained for 3 AdamW steps: every parameter the same at 1, 2, 3 and 4 threads.
  @Test func charGPTTrainsIdenticallyAtEveryThreadCount() {
    let c = GPTConfiguration(
      vocabularySize: 64, contextLength: 32, layers: 2, heads: 2, width: 64, bias: true, tiesWeights: true,
      gelu: .none, initialization: .pytorch)
    var data = SeededGenerator(seed: 3)
    let tokens = (0..<(8 * 33)).map { _ in Int.random(in: 0..<64, using: &data) }
    let x = IndexTensor((0..<8).flatMap { b in tokens[(b * 33)..<(b * 33 + 32)] }, shape: [8, 32])
    let y = IndexTensor((0..<8).flatMap { b in tokens[(b * 33 + 1)..<(b * 33 + 33)] }, shape: [8, 32])
    Self.expectSameAtEveryCount("char-gpt") {
      var generator = SeededGenerator(seed: 2)
      let model = GPT<Float>(c, using: &generator)
      let optimizer = AdamW(model.parameters, learningRate: 3e-3, betas: (0.9, 0.99), weightDecay: 0.1)
      for _ in 0..<3 {
        model.zeroGrad()
        model.loss(x, targets: y).backward()
        clipGradientNorm(model.parameters, maxNorm: 1)
        optimizer.step()
      }
      return model.parameters
    }
  }

  // MARK: Kernels, each at 1, 2 and 3 threads

  /// A seeded tensor of `shape` with a requiresGrad flag.
  static func input(_ shape: [Int], seed: UInt64, grad: Bool = true) -> Tensor<Float> {
    var generator = SeededGenerator(seed: seed)
    return Tensor<Float>.randomNormal(shape, using: &generator).requireGrad(grad)
  }

  /// The output and the input gradients of `f` for a random upstream gradient.
  static func valueAndGradients(
    _ inputs: [Tensor<Float>], _ f: ([Tensor<Float>]) -> Tensor<Float>
  ) -> [Tensor<Float>] {
    let fresh = inputs.map { Tensor($0.storage.copy(), requiresGrad: $0.requiresGrad) }
    let y = f(fresh)
    var generator = SeededGenerator(seed: 99)
    let g = Tensor<Float>.randomNormal(y.shape, using: &generator)
    y.backward(gradient: g)
    return [y.detached()] + fresh.compactMap { $0.grad }
  }

  @Test(arguments: [
    "sumAll", "sumRows", "sumColumns", "maxColumns", "softmax", "logSoftmax", "layerNorm",
    "batchNorm2d", "batchNormRows", "conv2d", "maxPool", "avgPool", "embedding", "crossEntropy",
    "batchedMatmul", "gelu", "broadcastAdd", "transpose", "logSumExp",
  ])
  func kernelIsTheSameAtOneTwoAndThreeThreads(kernel: String) {
    let f: ([Tensor<Float>]) -> Tensor<Float>
    var shapes: [[Int]] = [[200, 400]]
    switch kernel {
    case "sumAll": f = { $0[0].sum() }
    case "sumRows": f = { $0[0].sum(axes: [1]) }
    case "sumColumns": shapes = [[10_000, 16]]; f = { $0[0].sum(axes: [0]) }
    case "maxColumns": shapes = [[10_000, 16]]; f = { $0[0].max(axes: [0]) }
    case "softmax": f = { $0[0].softmax() }
    case "logSoftmax": f = { $0[0].logSoftmax() }
    case "layerNorm":
      shapes = [[200, 400], [400], [400]]
      f = { layerNorm($0[0], normalizedShape: [400], weight: $0[1], bias: $0[2]) }
    case "batchNorm2d":
      shapes = [[16, 8, 20, 20], [8], [8]]
      f = { batchNorm($0[0], weight: $0[1], bias: $0[2]).output }
    case "batchNormRows":
      shapes = [[4000, 24], [24], [24]]
      f = { batchNorm($0[0], weight: $0[1], bias: $0[2]).output }
    case "conv2d":
      shapes = [[24, 3, 20, 20], [8, 3, 3, 3], [8]]
      f = { conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1) }
    case "maxPool": shapes = [[8, 8, 32, 32]]; f = { maxPool2d($0[0], kernelSize: 3, stride: 2) }
    case "avgPool": shapes = [[8, 8, 32, 32]]; f = { avgPool2d($0[0], kernelSize: 2) }
    case "embedding":
      shapes = [[50, 64]]
      var generator = SeededGenerator(seed: 5)
      let indices = IndexTensor((0..<2000).map { _ in Int.random(in: 0..<50, using: &generator) }, shape: [2000])
      f = { embedding(indices, weight: $0[0]) }
    case "crossEntropy":
      shapes = [[2000, 65]]
      let labels = (0..<2000).map { $0 % 65 }
      f = { crossEntropy($0[0], labels: labels) }
    case "batchedMatmul": shapes = [[16, 64, 96], [16, 96, 80]]; f = { $0[0].matmul($0[1]) }
    case "gelu": f = { $0[0].gelu() }
    case "broadcastAdd": shapes = [[200, 400], [1, 400]]; f = { ($0[0] + $0[1]) * $0[1] }
    case "transpose": shapes = [[4, 200, 100]]; f = { $0[0].transposed(1, 2) * 2 }
    case "logSumExp": f = { $0[0].logSumExp(axes: [1]) }
    default: fatalError("unknown kernel \(kernel)")
    }
    let inputs = shapes.enumerated().map { Self.input($0.element, seed: UInt64($0.offset + 10)) }
    Self.expectSameAtEveryCount(kernel, counts: [1, 2, 3]) { Self.valueAndGradients(inputs, f) }
  }

  /// Adam's update in pieces on the pool gives the bits of one serial update.
  @Test func adamUpdateIsTheSameAtOneTwoAndThreeThreads() {
    Self.expectSameAtEveryCount("adam", counts: [1, 2, 3]) {
      let p = Self.input([200, 250], seed: 1, grad: true)
      p.accumulateGrad(Self.input([200, 250], seed: 2, grad: false).storage)
      let optimizer = Adam([p], learningRate: 1e-2, weightDecay: 0.01)
      optimizer.step()
      optimizer.step()
      return [p]
    }
  }

  // MARK: Reference values of the reductions

  /// The chunked 8-lane sum agrees with a Double sum to a few ulp of the total, and is exact on
  /// integers.
  @Test func chunkedSumMatchesADoubleSum() {
    let n = 1_000_003
    let values = (0..<n).map { Float(sin(Double($0) * 0.001)) }
    let x = Tensor<Float>(values, shape: [n])
    let reference = values.reduce(0.0) { $0 + Double($1) }
    for threads in [1, 3] {
      setThreadCount(threads)
      #expect(abs(Double(x.sum().item()) - reference) < 1e-3)
    }
    let integers = Tensor<Float>((0..<n).map { Float($0 % 7) }, shape: [n])
    let exact = (0..<n).reduce(0) { $0 + $1 % 7 }
    #expect(integers.sum().item() == Float(exact))  // 3·10⁶ < 2²⁴: every partial is exact
  }

  /// A column sum over many rows (the chunked path) equals a plain Double loop within rounding.
  @Test func columnSumMatchesAPlainLoop() {
    let rows = 20_000, columns = 16
    let x = Self.input([rows, columns], seed: 4, grad: false)
    let sums = x.sum(axes: [0]).scalars
    let values = x.scalars
    for j in 0..<columns {
      var reference = 0.0
      for i in 0..<rows { reference += Double(values[i * columns + j]) }
      #expect(abs(Double(sums[j]) - reference) < 1e-2)
    }
  }

  /// The scatter-add by vocabulary row equals a naive loop in token order, bit for bit.
  @Test func embeddingGradientEqualsTheSerialScatterAdd() {
    var generator = SeededGenerator(seed: 8)
    let rows = (0..<5000).map { _ in Int.random(in: 0..<37, using: &generator) }
    let width = 24
    let g = Self.input([5000, width], seed: 9, grad: false).scalars
    var expected = [Float](repeating: 0, count: 37 * width)
    for (j, r) in rows.enumerated() {
      for i in 0..<width { expected[r * width + i] += g[j * width + i] }
    }
    setThreadCount(3)
    var result = [Float](repeating: -1, count: 37 * width)
    rows.withUnsafeBufferPointer { indices in
      g.withUnsafeBufferPointer { source in
        result.withUnsafeMutableBufferPointer { target in
          CPU.scatterAddRows(
            source.baseAddress!, rows: indices, width: width, into: target.baseAddress!, targetRows: 37)
        }
      }
    }
    #expect(result.map(\.bitPattern) == expected.map(\.bitPattern))
  }

  // MARK: Products

  /// The library's gemm at 1, 2 and 3 threads for the products of the examples' shapes, named when
  /// they differ. OpenBLAS itself stays on one thread (its own split is its choice, and other tests
  /// run products at the same time, so this test does not switch it): the library splits C into
  /// blocks fixed by the shape (`GemmBlocks`), so the bits cannot depend on the count.
  @Test(arguments: [
    (64, 128, 3136), (2048, 384, 128), (2048, 128, 512), (4096, 65, 128), (32, 9, 6272),
  ])
  func gemmIsTheSameAtEveryCountForTheExamplesShapes(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    let results = ThreadPoolTests.gemmAtThreadCounts([1, 2, 3], m: m, n: n, k: k).results.map { $0.map(\.bitPattern) }
    #expect(results[0] == results[1], "gemm gives different bits at 1 and 2 threads for m=\(m) n=\(n) k=\(k)")
    #expect(results[0] == results[2], "gemm gives different bits at 1 and 3 threads for m=\(m) n=\(n) k=\(k)")
  }
}
