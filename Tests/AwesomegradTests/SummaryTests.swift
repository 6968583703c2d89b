import Awesomegrad
import AwesomegradModels
import Testing

/// print(model) and model.summary(inputShape:): the nested description and the table.
@Suite struct SummaryTests {
  func mlp() -> MLP<Float> {
    var rng = SeededGenerator(seed: 0)
    return MLP<Float>(inputs: 784, hiddenSizes: [256], outputs: 10, using: &rng)
  }

  @Test func nestedDescriptionLikePyTorch() {
    let expected = """
      MLP(
        (layers): Sequential(
          (0): Linear(in_features=784, out_features=256, bias=True)
          (1): ReLU()
          (2): Linear(in_features=256, out_features=10, bias=True)
        )
      )
      """
    #expect(mlp().description == expected)
    var rng = SeededGenerator(seed: 1)
    let dropout = Dropout<Double>(probability: 0.25, using: &rng)
    #expect(
      Sequential<Double>(dropout, GELU()).description
        == "Sequential(\n  (0): Dropout(p=0.25)\n  (1): GELU(approximate='tanh')\n)")
  }

  /// Parameters: 784·256 + 256 = 200,960 and 256·10 + 10 = 2,570, in all 203,530 Floats =
  /// 814,120 bytes = 795.04 KiB. Input 64·784·4 = 200,704 bytes = 196.00 KiB. Activations: the
  /// outputs of layers.0, .1 and .2: (64·256 + 64·256 + 64·10)·4 = 133,632 bytes = 130.50 KiB.
  /// The first column is as wide as the longest entry ("    layers.0 (Linear)", 21 characters) + 3.
  @Test func tableOfAnMLP() {
    let summary = mlp().summary(inputShape: [64, 784])
    let expected = """
      Layer (type)            Output shape   Param #
      ==============================================
      MLP                     [64, 10]            --
        layers (Sequential)   [64, 10]            --
          layers.0 (Linear)   [64, 256]      200,960
          layers.1 (ReLU)     [64, 256]            0
          layers.2 (Linear)   [64, 10]         2,570
      ==============================================
      Total parameters: 203,530 (795.04 KiB)
      Trainable parameters: 203,530
      Input [64, 784]: 196.00 KiB
      Activations (outputs of the innermost rows): 130.50 KiB
      """
    #expect(summary.description == expected, "\(summary)")
    #expect(summary.parameterBytes == 814_120)
    #expect(summary.activationBytes == 133_632)
    #expect(summary.rows.map(\.name) == ["", "layers", "layers.0", "layers.1", "layers.2"])
  }

  /// A module that is not a chain is one row, with its children's parameters; the summary leaves
  /// every module in the mode it was in, and records no graph.
  @Test func customModuleIsOneRowAndModesAreRestored() {
    final class Residual: Module<Double> {
      let inner: Linear<Double>
      init(using rng: inout SeededGenerator) {
        inner = Linear(inputs: 3, outputs: 3, using: &rng)
        super.init()
        register("inner", inner)
      }
      override func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> { x + inner(x) }
    }
    var rng = SeededGenerator(seed: 2)
    let model = Sequential<Double>(Residual(using: &rng), Dropout(probability: 0.5, using: &rng))
    model.layers[1].eval()
    let summary = model.summary(inputShape: [2, 3])
    #expect(summary.rows.map(\.type) == ["Sequential", "Residual", "Dropout"])
    #expect(summary.rows[1].parameterCount == 12)  // 3·3 + 3
    #expect(summary.rows[1].outputShape == [2, 3])
    #expect(model.isTraining && model.layers[0].isTraining && !model.layers[1].isTraining)
    #expect(model.parameters.allSatisfy { $0.grad == nil })
  }

  /// L = Σ (x·Wᵀ + b) with x = [1, 2]: ∂L/∂W = [[1, 2]] (norm √5), ∂L/∂b = [1] (norm 1).
  @Test func gradientNormsPerParameter() {
    let layer = Linear<Double>(weight: Tensor([0.5, -1], shape: [1, 2]), bias: Tensor([0]))
    #expect(layer.gradientNorms().map(\.norm) == [nil, nil])
    layer(Tensor([1, 2], shape: [1, 2])).sum().backward()
    let norms = layer.gradientNorms()
    #expect(norms.map(\.name) == ["weight", "bias"])
    #expect(norms[0].norm == 5.0.squareRoot())
    #expect(norms[1].norm == 1)
  }
}

/// The transformer modules print their hyperparameters as PyTorch's reprs do.
@Suite struct TransformerDescriptionTests {
  @Test func blockDescription() {
    var rng = SeededGenerator(seed: 0)
    let configuration = GPTConfiguration(vocabularySize: 10, contextLength: 8, layers: 1, heads: 2, width: 4)
    let text = GPT<Float>(configuration, using: &rng).description
    #expect(text.contains("(wte): Embedding(10, 4)"), "\(text)")
    #expect(text.contains("(ln_1): LayerNorm((4,), eps=1e-05, elementwise_affine=True)"), "\(text)")
    #expect(text.contains("(attn): CausalSelfAttention(\n"), "\(text)")
    #expect(text.contains("heads=2"), "\(text)")
    #expect(text.contains("(c_attn): Linear(in_features=4, out_features=12, bias=True)"), "\(text)")
  }
}
