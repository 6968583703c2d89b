import ArgumentParser
import Awesomegrad
import AwesomegradModels
import AwesomegradTokenizers
import Foundation

/// `hf-model finetune --model DIR --tokenizer FILE --text-file F --steps N [--lora-rank R] --save OUTDIR`.
struct Finetune: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fine-tune a model on a text file (fully, or with LoRA adapters) and save it in the Hugging Face layout.",
    discussion: """
      The text is encoded with the tokenizer; each step trains on --batch-size windows of \
      --sequence-length tokens drawn at random (seeded) from it, with AdamW on the next-token loss. \
      OUTDIR receives config.json, model.safetensors and tokenizer.json (and tokenizer_config.json \
      when the tokenizer's folder has one), which transformers' from_pretrained loads. With \
      --lora-rank, only the adapters train; OUTDIR holds the model with the adapters merged, and \
      OUTDIR/adapter holds the adapters alone in PEFT's layout (adapter_model.safetensors, \
      adapter_config.json).
      """)

  @Option(help: "The model folder.")
  var model: String

  @Option(help: "The tokenizer.json.")
  var tokenizer: String

  @Option(help: "The UTF-8 text to train on.")
  var textFile: String

  @Option(help: "Optimizer steps.")
  var steps: Int

  @Option(help: "Train LoRA adapters of this rank instead of every weight.")
  var loraRank: Int?

  @Option(help: "LoRA's alpha (the adapters are scaled by alpha / rank; default 2·rank).")
  var loraAlpha: Double?

  @Option(help: "The projections to adapt, separated by commas (default: c_attn for GPT-2, q_proj,v_proj for Llama).")
  var loraTargets: String?

  @Option(help: "AdamW's learning rate (default 5e-5, or 1e-3 with LoRA).")
  var learningRate: Double?

  @Option(help: "Windows per step.")
  var batchSize = 4

  @Option(help: "Tokens per window (at most the model's context).")
  var sequenceLength = 64

  @Option(help: "The seed of the windows and the adapters.")
  var seed: UInt64 = 0

  @Option(help: "Threads for the library (pool and BLAS).")
  var threads: Int?

  @Option(help: "The folder to write.")
  var save: String

  @Flag(help: "Print one JSON object at the end.")
  var json = false

  func validate() throws {
    if steps < 0 { throw ValidationError("--steps must be ≥ 0") }
    if let loraRank, loraRank < 1 { throw ValidationError("--lora-rank must be at least 1") }
    if batchSize < 1 || sequenceLength < 2 { throw ValidationError("--batch-size ≥ 1 and --sequence-length ≥ 2") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  func run() throws {
    try reportingErrors {
      setThreads(threads)
      var model = try loadCausalLanguageModel(from: model)
      let tokenizer = try BPETokenizer(contentsOf: tokenizer)
      let ids = try checkedIDs(tokenizer.encode(try readText(textFile)), for: model, option: "--text-file")
      let length = min(sequenceLength, model.configuration.contextLength)
      guard ids.count >= length else {
        throw ValidationError("\(textFile) has \(ids.count) tokens, fewer than a window of \(length)")
      }
      var adapted: [String] = []
      if let loraRank {
        let targets = loraTargets?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let known = Set(model.projections.map { String($0.name.split(separator: ".").last!) })
        if let targets, let unknown = targets.first(where: { !known.contains($0) }) {
          throw ValidationError("--lora-targets: no projection is named \(unknown); known: \(known.sorted())")
        }
        adapted = model.addLoRA(rank: loraRank, alpha: loraAlpha ?? Double(2 * loraRank), targets: targets, seed: seed)
      }
      let trainable = model.trainableParameters.map(\.tensor)
      let optimizer = AdamW(trainable, learningRate: learningRate ?? (loraRank == nil ? 5e-5 : 1e-3))
      var generator = SeededGenerator(seed: seed)
      var losses: [Float] = []
      let start = DispatchTime.now().uptimeNanoseconds
      for step in 0..<steps {
        var windows: [Int] = []
        for _ in 0..<batchSize {
          let first = Int.random(in: 0...(ids.count - length), using: &generator)
          windows += ids[first..<(first + length)]
        }
        optimizer.zeroGrad()
        let loss = model.loss(IndexTensor(windows, shape: [batchSize, length]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if !json { FileHandle.standardError.write(Data("step \(step + 1): loss \(loss.item())\n".utf8)) }
      }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      let out = URL(fileURLWithPath: save)
      if loraRank != nil {
        try model.saveAdapters(
          to: out.appendingPathComponent("adapter"), baseModel: URL(fileURLWithPath: self.model).standardizedFileURL.path)
        model = model.mergingLoRA()
      }
      try model.save(to: out, tokenizer: tokenizer)
      if json {
        try printJSON([
          "steps": steps, "losses": losses.map(Double.init), "trainable_parameters": trainable.reduce(0) { $0 + $1.count },
          "lora_modules": adapted, "seconds": seconds, "save": save,
        ])
      }
    }
  }
}
