import ArgumentParser
import Awesomegrad
import ExamplePlots
import Foundation
import Micrograd

/// micrograd's demo: a 2-16-16-1 MLP learns to separate two moons, on the scalar `Value` engine,
/// on the `Tensor` engine, or on both side by side.
@main
struct Moons: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train micrograd's two-moons classifier on the scalar and/or tensor engine.",
    discussion: """
      Trains MLP(2, [16, 16, 1]) (ReLU hidden layers, linear output) with full-batch SGD on the hinge \
      loss mean(relu(1 - y*score)) + 1e-4*sum(p^2), learning rate 1.0 - 0.9*k/100 at step k, exactly \
      as micrograd's demo notebook does. By default the data are make_moons(100, noise 0.1) drawn \
      from --seed and the weights uniform(-1, 1) from the same generator; --fixture replays a run \
      recorded with Python micrograd instead and reports how far the loss trace deviates from it.

      Loss and accuracy are those computed before the update of each step; the final values \
      reported are those of the last step (step steps-1). ms/step times only the training loop.
      """)

  enum Engine: String, ExpressibleByArgument, CaseIterable {
    case value, tensor, both
  }

  @Option(help: "A fixture in the format of Tests/MicrogradTests/Fixtures/micrograd_moons_seed1337.json.")
  var fixture: String?

  @Option(help: "Training steps.")
  var steps = 100

  @Option(help: "Seed for the data and the initial weights (ignored with --fixture).")
  var seed: UInt64 = 1

  @Option(help: "Which engine to train: value, tensor or both.")
  var engine: Engine = .both

  @Flag(help: "Print one JSON object per engine per line instead of the progress report.")
  var json = false

  @Flag(help: "Print the BLAS backend first: OpenBLAS version, kernel (core), threads, kernel correction.")
  var verbose = false

  @Option(help: "Write the decision boundary as an SVG file.")
  var svg: String?

  @Option(help: "Write the loss curve as an SVG file.")
  var lossSvg: String?

  @Option(
    help: ArgumentHelp(
      "Write the tensor engine's graph of one training step: FILE.dot (Graphviz text) or FILE.svg.",
      discussion: "An .svg is rendered by Graphviz's dot (install it with `sudo apt-get install graphviz`)."))
  var graph: String?

  @Flag(help: "Check every op of the tensor engine for NaN and infinity (withAnomalyDetection).")
  var detectAnomaly = false

  mutating func validate() throws {
    guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    if let graph, !graph.hasSuffix(".dot") && !graph.hasSuffix(".svg") {
      throw ValidationError("--graph \(graph): the file name must end in .dot or .svg")
    }
    for path in [svg, lossSvg, graph].compactMap({ $0 }) {
      let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue
      else {
        throw ValidationError("cannot write \(path): the folder \(folder) does not exist")
      }
    }
  }

  func run() throws {
    if verbose { print("BLAS: \(BLASBackend.current)\n      \(BLASBackend.current.config)") }
    let problem = try loadProblem()
    if !json {
      print("moons: \(problem.X.count) points, MLP\(problem.layerSizes), \(steps) steps, \(problem.source)")
    }
    var valueRun: TrainingRun<ValueTrainer>?
    var tensorRun: TrainingRun<TensorTrainer>?
    var summaries: [String] = []
    if engine != .tensor { (valueRun, summaries) = trainAndReport(ValueTrainer.self, problem, summaries) }
    if engine != .value {
      (tensorRun, summaries) = withAnomalyDetection(detectAnomaly) {
        trainAndReport(TensorTrainer.self, problem, summaries)
      }
      if detectAnomaly && !json {
        print("[tensor] anomaly detection: no NaN or infinity in any op or gradient")
      }
    }
    if !json, let valueRun, let tensorRun { printSideBySide(valueRun.trace, tensorRun.trace) }
    summaries.forEach { print($0) }
    if !json, let valueRun, let tensorRun {
      let speedup = valueRun.millisecondsPerStep / tensorRun.millisecondsPerStep
      print(String(format: "speedup (value ms / tensor ms): %.1fx", speedup))
    }

    // Pictures from the tensor model if it was trained, else from the value model.
    let title = "MLP(2, \(Array(problem.layerSizes.dropFirst()))) after \(steps) steps"
    let picture: (scores: ([[Double]]) -> [Double], trace: [TraceRecord], engine: String)
    if let tensorRun {
      picture = (tensorRun.trainer.scores, tensorRun.trace, TensorTrainer.engineName)
    } else {
      picture = (valueRun!.trainer.scores, valueRun!.trace, ValueTrainer.engineName)
    }
    if let svg {
      let accuracy = Int((picture.trace.last!.accuracy * 100).rounded())
      let image = SVG.decisionBoundary(
        X: problem.X, y: problem.y, title: "\(title) (\(picture.engine) engine): accuracy \(accuracy)%",
        scores: picture.scores)
      try write(image, to: svg)
    }
    if let lossSvg {
      let image = SVG.lossCurve(
        trace: picture.trace.map { ($0.step, $0.loss, $0.accuracy) }, title: "\(title): loss and accuracy")
      try write(image, to: lossSvg)
    }
    if let graph { try writeGraph(problem, to: graph) }
  }

  /// Writes the graph of the first training step (before any update) as DOT, or as SVG through dot.
  func writeGraph(_ problem: Problem, to path: String) throws {
    let trainer = TensorTrainer(
      layerSizes: problem.layerSizes, parameters: problem.initialParameters, X: problem.X, y: problem.y)
    let dot = trainer.graphOfOneStep()
    if path.hasSuffix(".dot") { return try write(dot, to: path) }
    guard let dotProgram = Graphviz.dotExecutable() else {
      throw MoonsError(
        "--graph \(path): rendering SVG needs Graphviz's dot, which is not installed. Install it with "
          + "`sudo apt-get install graphviz` (Debian, Ubuntu) or `brew install graphviz` (macOS), "
          + "or ask for a .dot file and render it elsewhere.")
    }
    try Graphviz.render(dot, with: dotProgram, to: path)
    if !json { print("wrote \(path)") }
  }

  /// The data and initial parameters: from the fixture, or generated from the seed.
  func loadProblem() throws -> Problem {
    if let fixture {
      let recorded = try MoonsFixture.load(path: fixture)
      return Problem(
        X: recorded.X, y: recorded.y, layerSizes: recorded.layerSizes,
        initialParameters: recorded.initialParameters, recordedTrace: recorded.trace,
        source: "data and weights from \((fixture as NSString).lastPathComponent)")
    }
    var generator = SeededGenerator(seed: seed)
    let (X, y) = makeMoons(n: 100, noise: 0.1, using: &generator)
    let layerSizes = [2, 16, 16, 1]
    let initialParameters = Micrograd.MLP(2, [16, 16, 1], using: &generator).parameters.map(\.data)
    return Problem(
      X: X, y: y, layerSizes: layerSizes, initialParameters: initialParameters, recordedTrace: nil,
      source: "make_moons(100, noise 0.1) and weights from seed \(seed)")
  }

  /// Trains one engine, printing progress every 10 steps (or the JSON line at the end). Appends the
  /// summary to `summaries`, to be printed after the side-by-side table when both engines run.
  func trainAndReport<Trainer: MoonsTrainer>(
    _ type: Trainer.Type, _ problem: Problem, _ summaries: [String]
  ) -> (TrainingRun<Trainer>, [String]) {
    var summaries = summaries
    let trainer = Trainer(
      layerSizes: problem.layerSizes, parameters: problem.initialParameters, X: problem.X, y: problem.y)
    let name = Trainer.engineName
    // With both engines the progress is printed afterwards, side by side.
    let printsProgress = !json && engine != .both
    let run = train(trainer, steps: steps) { record in
      guard printsProgress, isReported(record.step) else { return }
      print(
        String(
          format: "[%@] step %3d  loss %.6f  accuracy %.0f%%", name, record.step, record.loss,
          record.accuracy * 100))
    }
    let deviation = problem.recordedTrace.map { maximumRelativeDeviation(run.trace, from: $0) }
    let last = run.trace.last!
    if json {
      let deviationText = deviation.map { jsonNumber($0) } ?? "null"
      print(
        "{\"engine\": \"\(name)\", \"steps\": \(steps), \"final_loss\": \(jsonNumber(last.loss)), "
          + "\"accuracy\": \(jsonNumber(last.accuracy)), \"ms_per_step\": \(jsonNumber(run.millisecondsPerStep)), "
          + "\"max_trace_deviation\": \(deviationText)}")
    } else {
      summaries.append(
        String(
          format: "[%@] final accuracy %.0f%% (step %d), %.3f ms/step", name, last.accuracy * 100, last.step,
          run.millisecondsPerStep))
      if let deviation, let recorded = problem.recordedTrace {
        let accuracyMismatches = zip(run.trace, recorded).filter { $0.accuracy != $1.accuracy }.count
        summaries.append(
          String(
            format: "[%@] largest relative deviation of the loss trace from the fixture: %.3g; "
              + "accuracy differs at %d of %d steps", name, deviation, accuracyMismatches,
            min(run.trace.count, recorded.count)))
      }
    }
    return (run, summaries)
  }

  /// Every 10th step and the last one.
  func isReported(_ step: Int) -> Bool { step % 10 == 0 || step == steps - 1 }

  /// The two engines' traces as one table.
  func printSideBySide(_ value: [TraceRecord], _ tensor: [TraceRecord]) {
    print("step   value loss   tensor loss   value acc  tensor acc")
    for (v, t) in zip(value, tensor) where isReported(v.step) {
      print(
        String(
          format: "%4d  %11.6f  %12.6f  %9.0f%%  %9.0f%%", v.step, v.loss, t.loss, v.accuracy * 100,
          t.accuracy * 100))
    }
  }

  func write(_ text: String, to path: String) throws {
    do {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw MoonsError("cannot write \(path): \(error.localizedDescription) Does its folder exist?")
    }
    if !json { print("wrote \(path)") }
  }
}

/// What to train on.
struct Problem {
  let X: [[Double]]
  let y: [Double]
  let layerSizes: [Int]
  let initialParameters: [Double]
  /// The fixture's trace, to compare with.
  let recordedTrace: [MoonsFixture.Record]?
  /// Where the data came from, for the report.
  let source: String
}

/// maxₖ |lossₖ − recordedₖ| / |recordedₖ| over the steps both traces have.
func maximumRelativeDeviation(_ trace: [TraceRecord], from recorded: [MoonsFixture.Record]) -> Double {
  zip(trace, recorded).map { abs($0.loss - $1.loss) / abs($1.loss) }.max() ?? 0
}

/// A JSON number, or null for NaN and infinities.
func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
