import Foundation

/// A learning rate as a function of the step number (0, 1, 2, …). Query it each step and assign the
/// result to ``Optimizer/learningRate``:
///
/// ```swift
/// let schedule = LinearDecay(initial: 1.0, final: 0.1, totalSteps: 100)   // micrograd's moons demo
/// for k in 0..<100 {
///   optimizer.learningRate = schedule(k)
///   …
/// }
/// ```
public protocol LearningRateSchedule: Sendable {
  /// The learning rate for step `step` (0-based).
  func learningRate(at step: Int) -> Double
}

extension LearningRateSchedule {
  /// The learning rate for step `step`.
  public func callAsFunction(_ step: Int) -> Double { learningRate(at: step) }
}

/// A straight line from `initial` at step 0 to `final` at `totalSteps`, and `final` afterwards:
///
///     lr(k) = initial + (final − initial)·k / totalSteps
///
/// micrograd's demo uses `initial: 1.0, final: 0.1, totalSteps: 100`, i.e. lr = 1.0 − 0.9·k/100.
public struct LinearDecay: LearningRateSchedule {
  /// The learning rate at step 0.
  public var initial: Double
  /// The learning rate at `totalSteps` and after.
  public var final: Double
  /// The step at which the schedule ends.
  public var totalSteps: Int

  /// From `initial` at step 0 to `final` at `totalSteps`, linearly.
  public init(initial: Double, final: Double, totalSteps: Int, file: StaticString = #fileID, line: UInt = #line) {
    if totalSteps <= 0 {
      argumentFailure("LinearDecay", "totalSteps must be positive, got \(totalSteps)", file: file, line: line)
    }
    self.initial = initial
    self.final = final
    self.totalSteps = totalSteps
  }

  public func learningRate(at step: Int) -> Double {
    let k = min(step, totalSteps)
    return initial - (initial - final) * Double(k) / Double(totalSteps)
  }
}

/// Multiplies the rate by `gamma` every `stepSize` steps (PyTorch's `StepLR`):
///
///     lr(k) = initial · gamma^⌊k / stepSize⌋
public struct StepDecay: LearningRateSchedule {
  /// The learning rate at step 0.
  public var initial: Double
  /// The number of steps between decays.
  public var stepSize: Int
  /// The factor applied every `stepSize` steps.
  public var gamma: Double

  /// `initial`·γ^⌊step / stepSize⌋.
  public init(
    initial: Double, stepSize: Int, gamma: Double = 0.1, file: StaticString = #fileID, line: UInt = #line
  ) {
    if stepSize <= 0 {
      argumentFailure("StepDecay", "stepSize must be positive, got \(stepSize)", file: file, line: line)
    }
    self.initial = initial
    self.stepSize = stepSize
    self.gamma = gamma
  }

  public func learningRate(at step: Int) -> Double {
    initial * Foundation.pow(gamma, Double(step / stepSize))
  }
}

/// A linear warm-up to `peak` over `warmupSteps` (peak/warmupSteps at step 0, `peak` at step
/// warmupSteps − 1), then a cosine decay to `minimum` at `totalSteps` (and `minimum` afterwards):
///
///     lr(k) = peak · (k + 1) / warmupSteps                                  for k < warmupSteps
///     lr(k) = minimum + ½(peak − minimum)(1 + cos(π·(k − w) / (totalSteps − w)))   afterwards
public struct CosineWithWarmup: LearningRateSchedule {
  /// The learning rate at the end of the warm-up.
  public var peak: Double
  /// The learning rate the cosine decays to.
  public var minimum: Double
  /// The steps of linear warm-up from 0 to `peak`.
  public var warmupSteps: Int
  /// The step at which the schedule ends.
  public var totalSteps: Int

  /// Linear warm-up to `peak` over `warmupSteps`, then cosine decay to `minimum` at `totalSteps`.
  public init(
    peak: Double, minimum: Double = 0, warmupSteps: Int, totalSteps: Int, file: StaticString = #fileID,
    line: UInt = #line
  ) {
    if !(warmupSteps >= 0 && totalSteps > warmupSteps) {
      argumentFailure(
        "CosineWithWarmup", "need 0 ≤ warmupSteps < totalSteps, got \(warmupSteps) and \(totalSteps)",
        file: file, line: line)
    }
    self.peak = peak
    self.minimum = minimum
    self.warmupSteps = warmupSteps
    self.totalSteps = totalSteps
  }

  public func learningRate(at step: Int) -> Double {
    if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
    let progress = Double(min(step, totalSteps) - warmupSteps) / Double(totalSteps - warmupSteps)
    return minimum + 0.5 * (peak - minimum) * (1 + Foundation.cos(Double.pi * progress))
  }
}
