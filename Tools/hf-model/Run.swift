import ArgumentParser
import Awesomegrad
import AwesomegradModels
import AwesomegradTokenizers
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `hf-model logits --model DIR --ids 1,2,3 --json`: `{"logits": [[...], ...]}`, every position.
struct Logits: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the logits of every position of a sequence of token ids.")

  @Option(help: "The model folder (config.json and model.safetensors or a sharded index).")
  var model: String

  @Option(help: "The ids, separated by commas.")
  var ids: String

  @Option(help: "Threads for the library (pool and BLAS).")
  var threads: Int?

  @Flag(help: "Print {\"logits\": [[...], ...]} (the only output form).")
  var json = false

  func run() throws {
    try reportingErrors {
      setThreads(threads)
      let model = try loadCausalLanguageModel(from: model)
      let ids = try checkedIDs(try parseIDs(ids, option: "--ids"), for: model, option: "--ids")
      guard !ids.isEmpty else { throw ValidationError("--ids: give at least one id") }
      let logits = withoutGrad { model(IndexTensor(ids, shape: [1, ids.count])) }
      let v = logits.shape[2]
      let values = logits.scalars
      printJSONArrays("logits", (0..<ids.count).map { Array(values[($0 * v)..<(($0 + 1) * v)]) })
    }
  }
}

/// `hf-model generate ...`: `{"ids": [...], "text": "...", "tokens_per_second": x, "peak_rss_bytes": n}`.
struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Continue a prompt with the KV cache: greedy by default, or sampled.",
    discussion: """
      The prompt is --ids, or --prompt encoded with --tokenizer (default: the model folder's \
      tokenizer.json). Generation stops at the configuration's end-of-sequence token unless \
      --ignore-eos, which makes exactly --max-new-tokens tokens. tokens_per_second is the new tokens \
      over the time of the whole generation (prompt included); peak_rss_bytes is the process's peak \
      resident memory. "text" is the new tokens decoded, empty when there is no tokenizer.
      """)

  @Option(help: "The model folder.")
  var model: String

  @Option(help: "The prompt's ids, separated by commas.")
  var ids: String?

  @Option(help: "The prompt as text (needs a tokenizer).")
  var prompt: String?

  @Option(help: "The tokenizer.json (default: the model folder's).")
  var tokenizer: String?

  @Option(help: "The most new tokens.")
  var maxNewTokens: Int

  @Flag(help: "Choose the most likely token (the default).")
  var greedy = false

  @Option(help: "Sample at this temperature.")
  var temperature: Double?

  @Option(help: "Sample among the K most likely tokens.")
  var topK: Int?

  @Option(help: "Sample among the most likely tokens whose probability reaches P.")
  var topP: Double?

  @Option(help: "The seed of the sampling.")
  var seed: UInt64 = 0

  @Flag(help: "Do not stop at the end-of-sequence token: make exactly --max-new-tokens.")
  var ignoreEos = false

  @Option(help: "Threads for the library (pool and BLAS).")
  var threads: Int?

  @Option(help: "For benchmarks: one warm-up generation, then this many timed ones; the median rate is reported.")
  var runs: Int?

  @Flag(help: "Print one JSON object.")
  var json = false

  func validate() throws {
    if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
    if (ids == nil) == (prompt == nil) { throw ValidationError("give exactly one of --ids and --prompt") }
    if maxNewTokens < 0 { throw ValidationError("--max-new-tokens must be ≥ 0") }
    let sampling = temperature != nil || topK != nil || topP != nil
    if greedy && sampling { throw ValidationError("--greedy excludes --temperature, --top-k and --top-p") }
    if let temperature, !(temperature > 0) { throw ValidationError("--temperature must be positive") }
    if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  func run() throws {
    try reportingErrors {
      setThreads(threads)
      let model = try loadCausalLanguageModel(from: model)
      let tokenizerPath = tokenizer ?? (self.model + "/tokenizer.json")
      let tokenizer =
        FileManager.default.fileExists(atPath: tokenizerPath) ? try BPETokenizer(contentsOf: tokenizerPath) : nil
      var promptIDs: [Int]
      if let ids {
        promptIDs = try parseIDs(ids, option: "--ids")
      } else {
        guard let tokenizer else {
          throw ValidationError("--prompt needs --tokenizer or a tokenizer.json in the model folder")
        }
        promptIDs = tokenizer.encode(prompt!)
      }
      promptIDs = try checkedIDs(promptIDs, for: model, option: ids == nil ? "--prompt" : "--ids")
      guard !promptIDs.isEmpty else { throw ValidationError("the prompt has no tokens") }
      if case .gpt2 = model.configuration.architecture, promptIDs.count + maxNewTokens > model.configuration.contextLength {
        throw ValidationError(
          "the prompt's \(promptIDs.count) tokens and --max-new-tokens \(maxNewTokens) pass the model's "
            + "\(model.configuration.contextLength) positions")
      }
      let selection: TokenSelection =
        (temperature == nil && topK == nil && topP == nil)
        ? .greedy : .sampling(temperature: temperature ?? 1, topK: topK, topP: topP)
      let options = GenerationOptions(
        maxNewTokens: maxNewTokens, selection: selection, seed: seed, stopTokens: ignoreEos ? [] : nil)
      var rates: [Double] = []
      var new: [Int] = []
      for run in 0...(runs ?? 0) {
        let start = DispatchTime.now().uptimeNanoseconds
        new = model.generate(promptIDs, options: options)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if run > 0 || runs == nil { rates.append(new.isEmpty ? 0 : Double(new.count) / seconds) }
      }
      let text = try tokenizer?.decode(new) ?? ""
      let sorted = rates.sorted()
      let rate = (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
      if json {
        var object: [String: Any] = [
          "ids": new, "text": text, "tokens_per_second": rate, "peak_rss_bytes": peakResidentBytes(),
        ]
        if runs != nil { object["runs"] = rates }
        try printJSON(object)
      } else {
        print(text.isEmpty ? new.map(String.init).joined(separator: " ") : text)
        FileHandle.standardError.write(
          Data(String(format: "%d tokens, %.1f tokens/s, peak RSS %.0f MB\n", new.count, rate,
            Double(peakResidentBytes()) / 1e6).utf8))
      }
    }
  }
}

/// Sets the library's one thread count (its pool and its matrix products) when asked.
func setThreads(_ threads: Int?) {
  guard let threads else { return }
  setThreadCount(threads)
}

/// `ids` if every one is in the model's vocabulary.
func checkedIDs(_ ids: [Int], for model: any CausalLanguageModel, option: String) throws -> [Int] {
  let v = model.configuration.vocabularySize
  if let bad = ids.first(where: { $0 >= v }) {
    throw ValidationError("\(option): id \(bad) is outside the model's vocabulary 0..<\(v)")
  }
  return ids
}

/// The peak resident memory of this process, in bytes: `VmHWM` from `/proc/self/status` where it
/// exists, which covers this program's image only (`getrusage`'s `ru_maxrss` survives `exec`, so
/// under `swift run` it reported swift-run's own 134 MB peak for a 30 MB generation), else `getrusage`.
func peakResidentBytes() -> Int {
  if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
    let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
  {
    return kib * 1024
  }
  var usage = rusage()
  #if canImport(Darwin)
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss)
  #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
  #endif
}
