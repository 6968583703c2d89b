/// The moons demo's training loop, shared by both engines.
///
/// For step k = 0, 1, …: compute the loss and accuracy on the whole data set, record them, then take
/// one SGD step with micrograd's schedule lr = 1.0 − 0.9·k/100:
///
///   loss = mean(relu(1 − yᵢ·scoreᵢ)) + 1e-4 · Σₚ p²,   accuracy = mean((yᵢ > 0) == (scoreᵢ > 0)).
protocol MoonsTrainer {
  /// The name printed and written in the JSON output.
  static var engineName: String { get }
  /// A network with `layerSizes` (e.g. `[2, 16, 16, 1]`) and `parameters` in micrograd's order,
  /// to be trained on `X` (`[n, 2]`) and labels `y` (±1).
  init(layerSizes: [Int], parameters: [Double], X: [[Double]], y: [Double])
  /// Computes the loss and accuracy (before the update), backpropagates and updates the parameters.
  mutating func step(learningRate: Double) -> (loss: Double, accuracy: Double)
  /// The network's score for each point; the predicted label is its sign.
  func scores(_ points: [[Double]]) -> [Double]
}

/// The loss and accuracy recorded before the update of one step.
struct TraceRecord {
  let step: Int
  let loss: Double
  let accuracy: Double
}

/// What a training run produced.
struct TrainingRun<Trainer: MoonsTrainer> {
  var trainer: Trainer
  var trace: [TraceRecord]
  /// Wall-clock time of the training steps only (not printing, not data generation), per step.
  var millisecondsPerStep: Double
}

/// micrograd's learning rate at step k: 1.0 − 0.9·k/100, written as micrograd computes it.
func learningRate(step k: Int) -> Double { 1.0 - 0.9 * Double(k) / 100 }

/// Trains `trainer` for `steps` steps, calling `progress` after each (outside the timed region).
func train<Trainer: MoonsTrainer>(
  _ trainer: Trainer, steps: Int, progress: (TraceRecord) -> Void
) -> TrainingRun<Trainer> {
  var trainer = trainer
  var trace: [TraceRecord] = []
  var elapsed = Duration.zero
  let clock = ContinuousClock()
  for k in 0..<steps {
    let start = clock.now
    let (loss, accuracy) = trainer.step(learningRate: learningRate(step: k))
    elapsed += clock.now - start
    let record = TraceRecord(step: k, loss: loss, accuracy: accuracy)
    trace.append(record)
    progress(record)
  }
  let (seconds, attoseconds) = elapsed.components
  let milliseconds = Double(seconds) * 1e3 + Double(attoseconds) * 1e-15
  return TrainingRun(
    trainer: trainer, trace: trace, millisecondsPerStep: milliseconds / Double(max(steps, 1)))
}
