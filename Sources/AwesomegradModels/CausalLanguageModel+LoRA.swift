import Awesomegrad

/// LoRA fine-tuning (PEFT's `LoraConfig(r, lora_alpha, target_modules)`): low-rank adapters on
/// chosen projections, the rest of the model frozen, and a merge into the base weights.
extension CausalLanguageModel {
  /// The model's projections (linear layers) with their dotted names.
  public var projections: [(name: String, layer: Projection)] {
    namedModules.compactMap { name, module in (module as? Projection).map { (name, $0) } }
  }

  /// PEFT's default targets: `c_attn` for GPT-2, `q_proj` and `v_proj` for Llama.
  public var defaultLoRATargets: [String] {
    switch configuration.architecture {
    case .gpt2: ["c_attn"]
    case .llama: ["q_proj", "v_proj"]
    }
  }

  /// Adds a LoRA adapter of rank `rank` and scale `alpha / rank` to every projection whose name
  /// ends in one of `targets` (`c_attn`, `q_proj`, …; nil for ``defaultLoRATargets``), and freezes
  /// every other parameter, so an optimizer over ``trainableParameters`` trains the adapters only.
  ///
  /// - Returns: the names of the adapted projections.
  @discardableResult
  public func addLoRA(rank: Int, alpha: Double, targets: [String]? = nil, seed: UInt64 = 0) -> [String] {
    let targets = targets ?? defaultLoRATargets
    let chosen = projections.filter { name, _ in
      targets.contains { name == $0 || name.hasSuffix("." + $0) }
    }
    if chosen.isEmpty {
      modelArgumentFailure("addLoRA", "no projection is named \(targets)", file: #fileID, line: #line)
    }
    for (_, tensor) in namedParameters { tensor.requireGrad(false) }
    var generator = SeededGenerator(seed: seed)
    for (_, layer) in chosen { layer.addLoRA(rank: rank, alpha: alpha, using: &generator) }
    return chosen.map(\.name)
  }

  /// The parameters that require grad, by name: every parameter, or only the adapters after
  /// ``addLoRA(rank:alpha:targets:seed:)``.
  public var trainableParameters: [(name: String, tensor: Tensor<Float>)] {
    namedParameters.filter { $0.tensor.requiresGrad }
  }

  /// The LoRA adapters' tensors with PEFT's names in `adapter_model.safetensors`:
  /// `base_model.model.<projection>.lora_A.weight` and `.lora_B.weight`.
  public var adapterTensors: [(name: String, tensor: Tensor<Float>)] {
    projections.compactMap { name, layer -> [(String, Tensor<Float>)]? in
      guard let lora = layer.lora else { return nil }
      return [
        ("base_model.model.\(name).lora_A.weight", lora.a.weight),
        ("base_model.model.\(name).lora_B.weight", lora.b.weight),
      ]
    }.flatMap { $0 }
  }

  /// The Hugging Face tensors of the model, every adapter merged into its base weight
  /// (W + (alpha/r)·B·A, in the weight's layout): what ``save(to:tokenizer:)`` writes. A tied
  /// head appears once, under the embedding.
  public func huggingFaceTensors() -> [(name: String, tensor: Tensor<Float>)] {
    let merged = Dictionary(uniqueKeysWithValues: projections.map { ($0.name + ".weight", $0.layer) })
    return specifications.map { spec in
      if let layer = merged[spec.name] { return (spec.name, layer.mergedWeight()) }
      return (spec.name, namedParameters.first { $0.name == spec.name }!.tensor)
    }
  }

  /// A model with every adapter merged into its base weights and no adapters: the same function,
  /// in the plain architecture (the unmerged tensors are shared with this model, as new leaves).
  public func mergingLoRA() -> any CausalLanguageModel {
    let tensors = Dictionary(uniqueKeysWithValues: huggingFaceTensors().map { ($0.name, $0.tensor.detached()) })
    switch configuration.architecture {
    case .gpt2(let sizes): return GPT2LanguageModel(configuration: configuration, sizes: sizes, tensors: tensors)
    case .llama(let sizes): return LlamaLanguageModel(configuration: configuration, sizes: sizes, tensors: tensors)
    }
  }

  /// The tensor specifications of this model's architecture and sizes.
  var specifications: [TensorSpecification] {
    switch configuration.architecture {
    case .gpt2(let sizes): GPT2LanguageModel.specifications(sizes)
    case .llama(let sizes): LlamaLanguageModel.specifications(sizes)
    }
  }
}
