import Awesomegrad

/// A linear layer of a pretrained model, with its weight in the layout its checkpoint stores, and
/// an optional LoRA adapter.
///
/// - ``Layout/outputsByInputs``: `nn.Linear`'s `[out, in]`, y = x·Wᵀ + b (Llama).
/// - ``Layout/inputsByOutputs``: GPT-2's `Conv1D`, `[in, out]`, y = x·W + b.
///
/// Either way the weight is multiplied where it lies (gemm's transpose flag), so loading and saving
/// copy nothing and transpose nothing.
///
/// With a LoRA adapter (``addLoRA(rank:alpha:using:)``), PEFT's `lora.Linear`:
///
///     y = base(x) + (alpha / r) · (x·Aᵀ)·Bᵀ        A = lora_A.weight [r, in], B = lora_B.weight [out, r]
///
/// A starts as PyTorch's Kaiming-uniform draw and B as zeros, so the adapted layer starts equal to
/// the base one.
public final class Projection: Module<Float> {
  /// How the weight is stored.
  public enum Layout: Sendable, Equatable {
    /// `[out, in]`, `nn.Linear`.
    case outputsByInputs
    /// `[in, out]`, GPT-2's `Conv1D`.
    case inputsByOutputs
  }

  /// The weight, in ``layout``.
  public let weight: Tensor<Float>
  /// `[out]`, or nil.
  public let bias: Tensor<Float>?
  /// How ``weight`` is stored.
  public let layout: Layout
  /// The LoRA adapter, once added.
  public private(set) var lora: LoRAAdapter?

  /// The number of input features.
  public var inputs: Int { layout == .outputsByInputs ? weight.shape[1] : weight.shape[0] }
  /// The number of output features.
  public var outputs: Int { layout == .outputsByInputs ? weight.shape[0] : weight.shape[1] }

  /// A layer over `weight` (in `layout`) and `bias` `[out]` or none.
  public init(weight: Tensor<Float>, bias: Tensor<Float>?, layout: Layout) {
    self.weight = weight
    self.bias = bias
    self.layout = layout
    super.init()
    if weight.rank != 2 || (bias != nil && bias!.shape != [outputs]) {
      modelArgumentFailure(
        "Projection", "weight must be a matrix and bias [out], got \(weight.shape) and \(bias?.shape ?? [])",
        file: #fileID, line: #line)
    }
    registerParameter("weight", weight)
    if let bias { registerParameter("bias", bias) }
  }

  /// `[…, in]` → `[…, out]`.
  public override func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
    var y: Tensor<Float>
    switch (layout, bias) {
    case (.outputsByInputs, let bias?): y = x.linear(weight: weight, bias: bias)
    case (.outputsByInputs, nil): y = x.matmul(weight, transposeB: true)
    case (.inputsByOutputs, let bias?): y = x.linear(transposedWeight: weight, bias: bias)
    case (.inputsByOutputs, nil): y = x.matmul(weight)
    }
    if let lora { y = y + lora.b(lora.a(x)) * Float(lora.scaling) }
    return y
  }

  /// Adds a LoRA adapter of rank `rank` and scale `alpha / rank`, registered as the children
  /// `lora_A` and `lora_B` (PEFT's names).
  public func addLoRA<G: RandomNumberGenerator>(rank: Int, alpha: Double, using generator: inout G) {
    if lora != nil || rank < 1 {
      modelArgumentFailure("addLoRA", "needs rank ≥ 1 and no adapter yet, got rank \(rank)", file: #fileID, line: #line)
    }
    let a = Linear<Float>(inputs: inputs, outputs: rank, bias: false, initialization: .kaimingUniform, using: &generator)
    let b = Linear<Float>(weight: .zeros([outputs, rank], requiresGrad: true), bias: nil)
    lora = LoRAAdapter(a: a, b: b, rank: rank, alpha: alpha)
    register("lora_A", a)
    register("lora_B", b)
  }

  /// The base weight plus the adapter's (alpha/r)·B·A, in ``layout`` (a new tensor); the weight
  /// itself without an adapter.
  public func mergedWeight() -> Tensor<Float> {
    guard let lora else { return weight }
    let delta = withoutGrad { lora.b.weight.matmul(lora.a.weight) * Float(lora.scaling) }  // [out, in]
    return withoutGrad { (weight + (layout == .outputsByInputs ? delta : delta.transposed())).detached() }
  }
}

/// A LoRA adapter: `a` (`lora_A`, in → r) and `b` (`lora_B`, r → out), scaled by alpha / r.
public struct LoRAAdapter {
  /// `lora_A`: weight `[r, in]`.
  public let a: Linear<Float>
  /// `lora_B`: weight `[out, r]`.
  public let b: Linear<Float>
  /// r.
  public let rank: Int
  /// alpha.
  public let alpha: Double
  /// alpha / r.
  public var scaling: Double { alpha / Double(rank) }
}
