import Awesomegrad
import AwesomegradModels

/// One training step of the char-lm example's defaults on random tokens, Float: vocabulary 128,
/// context 64, 4 layers, 4 heads, width 128, exact-GELU MLP 4×, biases, a separate `lm_head`,
/// PyTorch's default initialisation, batch 32; AdamW lr 1e-3 betas (0.9, 0.99) with weight decay 0.1
/// on matrices only (two optimizers, as the example does), no clipping:
///
///     model.zeroGrad(); model.loss(x, targets: y).backward(); decayed.step(); undecayed.step()
///
/// The tokens are drawn once (seeded): the cost of a step does not depend on their values.
/// ``CharLM1024Step`` is the same model at context 1024, batch 2 (the same 2048 tokens a step).
class CharLMStep: Workload {
  class var name: String { "charlm" }
  static let engine = "awesomegrad"
  static let dtype = "float32"
  class var defaultSteps: Int { 20 }
  static let warmUpSteps = 3

  /// The context length and the batch size.
  class var context: Int { 64 }
  class var batch: Int { 32 }

  class var configuration: GPTConfiguration {
    GPTConfiguration(
      vocabularySize: 128, contextLength: context, layers: 4, heads: 4, width: 128, bias: true,
      tiesWeights: false, gelu: .none, initialization: .pytorch)
  }

  let x: IndexTensor
  let y: IndexTensor
  let model: GPT<Float>
  let parameters: [Tensor<Float>]
  let decayed: AdamW<Float>
  let undecayed: AdamW<Float>

  required init() {
    var generator = SeededGenerator(seed: 0)
    let c = Self.configuration
    let count = Self.batch * c.contextLength
    x = IndexTensor(
      (0..<count).map { _ in Int.random(in: 0..<c.vocabularySize, using: &generator) },
      shape: [Self.batch, c.contextLength])
    y = IndexTensor(
      (0..<count).map { _ in Int.random(in: 0..<c.vocabularySize, using: &generator) },
      shape: [Self.batch, c.contextLength])
    model = GPT(c, using: &generator)
    parameters = model.parameters
    decayed = AdamW(
      parameters.filter { $0.rank >= 2 }, learningRate: 1e-3, betas: (0.9, 0.99), weightDecay: 0.1)
    undecayed = AdamW(
      parameters.filter { $0.rank < 2 }, learningRate: 1e-3, betas: (0.9, 0.99), weightDecay: 0)
  }

  /// Thread CPU time per step, warm-up included (µs): less sensitive than the wall time to a busy
  /// machine (see CNNFashion).
  var cpuTimes: [Double] = []

  func step() {
    let start = threadCPUMicroseconds()
    defer { cpuTimes.append(threadCPUMicroseconds() - start) }
    model.zeroGrad()
    model.loss(x, targets: y).backward()
    decayed.step()
    undecayed.step()
  }

  /// The products of a step, each 2·m·n·k, with N = batch·context tokens: per block the linear
  /// layers (C→3C, C→C, C→4C, 4C→C: 24·N·C²) and attention's q·kᵀ and p·v (4·B·T²·C, the full
  /// square, masked or not, as PyTorch's twin counts), and lm_head (2·N·C·V); backward does twice the
  /// forward's products.
  var flopsPerStep: Double? {
    let c = Self.configuration
    let (b, t, width, v) = (
      Double(Self.batch), Double(c.contextLength), Double(c.width), Double(c.vocabularySize)
    )
    let n = b * t
    let block = 24 * n * width * width + 4 * b * t * t * width
    return 3 * (Double(c.layers) * block + 2 * n * width * v)
  }

  var extraFields: [(String, JSONValue)] {
    [("cpu_median_us", cpuTimes.isEmpty ? .null : .double(median(cpuTimes)))]
  }
}

/// The char-lm step at context 1024, batch 2: the same model and 2048 tokens a step as ``CharLMStep``,
/// where attention's T² terms dominate (the fused kernel's workload).
final class CharLM1024Step: CharLMStep {
  override class var name: String { "charlm-1024" }
  override class var defaultSteps: Int { 10 }
  override class var context: Int { 1024 }
  override class var batch: Int { 2 }
}
