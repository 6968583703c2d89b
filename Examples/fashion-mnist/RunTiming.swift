import Foundation

/// The training time of a run, for `--json`: per optimizer step (global batch) and per whole epoch.
/// Evaluation is not counted.
struct RunTiming {
  /// Optimizer steps taken: global batches, the same count on every rank.
  var steps = 0
  /// Epochs begun (the last may have been cut short by `--max-steps`).
  var epochs = 0
  /// Training seconds of every epoch begun.
  var seconds = 0.0
  /// Epochs that ran every batch, and their training seconds.
  var wholeEpochs = 0
  var wholeEpochSeconds = 0.0

  /// Whether `--max-steps` has been reached.
  func isDone(maxSteps: Int?) -> Bool { maxSteps.map { steps >= $0 } ?? false }

  /// Records an epoch's training time; `whole` when it ran every batch.
  mutating func endEpoch(seconds epochSeconds: Double, whole: Bool) {
    epochs += 1
    seconds += epochSeconds
    if whole {
      wholeEpochs += 1
      wholeEpochSeconds += epochSeconds
    }
  }

  /// `"seconds_per_epoch": x, "steps": n, "seconds_per_step": y`: the mean over whole epochs (null when
  /// `--max-steps` ended the run inside its first epoch; 0 when nothing was trained) and over steps.
  var jsonFields: String {
    func number(_ x: Double) -> String { String(format: "%.6g", x) }
    let perEpoch =
      wholeEpochs > 0 ? number(wholeEpochSeconds / Double(wholeEpochs)) : steps == 0 ? "0" : "null"
    let perStep = steps > 0 ? number(seconds / Double(steps)) : "null"
    return "\"seconds_per_epoch\": \(perEpoch), \"steps\": \(steps), \"seconds_per_step\": \(perStep)"
  }
}
