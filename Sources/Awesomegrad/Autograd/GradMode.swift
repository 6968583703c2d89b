/// Whether ops record a graph for backpropagation. Task-local, so concurrent tasks never see each
/// other's setting, and there is no global mutable state.
public enum GradMode {
  @TaskLocal static var enabledValue = true

  /// True unless inside ``withoutGrad(_:)``.
  public static var isEnabled: Bool { enabledValue }
}

/// Runs `body` with graph recording off: ops inside return tensors that do not require grad.
/// Use it for evaluation and for updates that must not be differentiated.
///
/// ```swift
/// let testLoss = withoutGrad { crossEntropy(model(xTest), labels: yTest) }
/// ```
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
  try GradMode.$enabledValue.withValue(false, operation: body)
}

/// Async form of ``withoutGrad(_:)``.
public func withoutGrad<R>(_ body: () async throws -> R) async rethrows -> R {
  try await GradMode.$enabledValue.withValue(false, operation: body)
}
