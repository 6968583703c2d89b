import Foundation

/// `--max-steps` and the timing keys of `--json`: per optimizer step (global batch) and per whole
/// epoch. Evaluation is not counted. With `--checkpoint-dir` the counts and seconds carry over a
/// resume: steps are the run's global steps, and the seconds those its checkpoints recorded.
enum RunTiming {
  /// The checkpoint state's key for the training seconds of the whole epochs done.
  static let wholeEpochSecondsKey = "whole_epoch_seconds"

  /// Whether `--max-steps` (a count of global batches) has been reached at global step `step`.
  static func isDone(_ step: Int, maxSteps: Int?) -> Bool { maxSteps.map { step >= $0 } ?? false }

  /// `"seconds_per_epoch": x, "steps": n, "seconds_per_step": y`: x over the `wholeEpochs` epochs
  /// that ran every batch (null when `--max-steps` ended the run inside the first epoch, or their
  /// time is unknown; 0 when nothing was trained), y over all `steps`.
  static func jsonFields(steps: Int, seconds: Double, wholeEpochs: Int, wholeEpochSeconds: Double?) -> String {
    func number(_ x: Double) -> String { String(format: "%.6g", x) }
    let perEpoch: String
    if wholeEpochs > 0, let wholeEpochSeconds {
      perEpoch = number(wholeEpochSeconds / Double(wholeEpochs))
    } else {
      perEpoch = steps == 0 ? "0" : "null"
    }
    let perStep = steps > 0 ? number(seconds / Double(steps)) : "null"
    return "\"seconds_per_epoch\": \(perEpoch), \"steps\": \(steps), \"seconds_per_step\": \(perStep)"
  }

  /// Epochs begun: the whole ones, and the one `--max-steps` cut short.
  static func epochsBegun(epochs: Int, batchInEpoch: Int) -> Int { epochs + (batchInEpoch > 0 ? 1 : 0) }
}
