import ArgumentParser
import Awesomegrad
import AwesomegradModels
import AwesomegradTokenizers
import Foundation

/// `hf-model loss --model DIR --ids-file F --json`: `{"loss": x, "grad_norms": {name: x}}`.
struct Loss: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the next-token loss of sequences of ids and the gradient norm of every parameter.",
    discussion: """
      F holds one sequence of ids per line (separated by commas or spaces, brackets allowed). The loss is the mean \
      cross-entropy of predicting each token from the ones before it, as transformers computes it with \
      labels=input_ids; rows of different lengths are padded on the right and their padding ignored. \
      The gradient norms are the L2 norms of d loss / d parameter, by Hugging Face name (a tied head \
      appears once, under the embedding).
      """)

  @Option(help: "The model folder.")
  var model: String

  @Option(help: "The file of id sequences, one per line.")
  var idsFile: String

  @Option(help: "Threads for the library (pool and BLAS).")
  var threads: Int?

  @Flag(help: "Print one JSON object.")
  var json = false

  func run() throws {
    try reportingErrors {
      setThreads(threads)
      let model = try loadCausalLanguageModel(from: model)
      var rows: [[Int]] = []
      for (number, line) in try readText(idsFile).split(whereSeparator: \.isNewline).enumerated() {
        let fields = line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "[" || $0 == "]" })
        if fields.isEmpty { continue }
        let row = try fields.map { field in
          guard let id = Int(field), id >= 0 else {
            throw ValidationError("\(idsFile), line \(number + 1): \"\(field)\" is not a token id")
          }
          return id
        }
        rows.append(try checkedIDs(row, for: model, option: "--ids-file line \(number + 1)"))
      }
      guard !rows.isEmpty, rows.allSatisfy({ $0.count >= 2 }) else {
        throw ValidationError("\(idsFile): give at least one line of two or more ids")
      }
      let length = rows.map(\.count).max()!
      if length > model.configuration.contextLength {
        throw ValidationError("\(idsFile): a line of \(length) ids passes the \(model.configuration.contextLength) positions")
      }
      let tokens = IndexTensor(rows.flatMap { $0 + [Int](repeating: 0, count: length - $0.count) }, shape: [rows.count, length])
      let loss = model.loss(tokens, lengths: rows.map(\.count))
      loss.backward()
      var norms: [String: Double] = [:]
      for (name, tensor) in model.namedParameters {
        norms[name] = (tensor.grad?.scalars ?? []).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
      }
      if json {
        try printJSON(["loss": Double(loss.item()), "grad_norms": norms])
      } else {
        print("loss \(loss.item())")
        for name in norms.keys.sorted() { print("\(name) \(norms[name]!)") }
      }
    }
  }
}
