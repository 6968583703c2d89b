/// Whether ops record a graph for backpropagation, and whether they check their values for NaN and
/// infinity (anomaly mode). Task-local, so concurrent tasks never see each other's setting, and
/// there is no global mutable state.
///
/// Both switches live in one task-local value, so an op reads the task-local storage once whatever
/// the modes are: anomaly mode costs nothing when it is off.
public enum GradMode {
  /// The modes of the current task, as one value.
  struct State: Sendable {
    /// Ops record parents and pullbacks (off inside ``withoutGrad(_:)-5c1h3``).
    var recordsGraph = true
    /// Ops check their outputs and pullback results (on inside ``withAnomalyDetection(_:_:)-1kwzh``).
    var detectsAnomalies = false
    /// 0 outside backward passes; inside a pass with `createGraph`, 1 plus the pass it differentiates
    /// (named by anomaly mode: "backward pass 2" is the pass through a recorded gradient).
    var backwardPass = 0
  }

  @TaskLocal static var state = State()

  /// True unless inside ``withoutGrad(_:)-5c1h3``.
  public static var isEnabled: Bool { state.recordsGraph }

  /// True inside ``withAnomalyDetection(_:_:)-1kwzh``.
  public static var isAnomalyDetectionEnabled: Bool { state.detectsAnomalies }
}

/// Runs `body` with graph recording off: ops inside return tensors that do not require grad.
/// Use it for evaluation and for updates that must not be differentiated.
///
/// ```swift
/// let testLoss = withoutGrad { crossEntropy(model(xTest), labels: yTest) }
/// ```
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
  var state = GradMode.state
  state.recordsGraph = false
  return try GradMode.$state.withValue(state, operation: body)
}

/// Async form of ``withoutGrad(_:)-5c1h3``.
public func withoutGrad<R>(_ body: () async throws -> R) async rethrows -> R {
  var state = GradMode.state
  state.recordsGraph = false
  return try await GradMode.$state.withValue(state, operation: body)
}

/// Runs `body` with anomaly detection on, as PyTorch's `torch.autograd.detect_anomaly()`: every op
/// checks its output for NaN and infinity, and every pullback recorded inside checks the gradients
/// it returns when ``Tensor/backward(gradient:retainGraph:file:line:onLeafGradientReady:)`` runs it (even if backward is
/// called after `body` returns). The first bad value stops the process with a message that names the
/// op, its input shapes, the pass (forward or backward) and where in your code the op was created:
/// the `file:line` that functions receive, or for operators and library-internal calls, the first
/// frame of the call stack outside Awesomegrad.
///
/// ```swift
/// let loss = withAnomalyDetection {
///   let loss = crossEntropy(model(x), labels: y)
///   loss.backward()
///   return loss
/// }
/// ```
///
/// It slows training down (every value is scanned, and operators capture a backtrace); turn it on
/// to find where a NaN comes from, not for every run. When it is off it costs nothing measurable:
/// ops read the same single task-local value that holds grad mode.
///
/// - Parameters:
///   - enabled: `false` runs `body` as it is, so that a command-line flag can switch the mode:
///     `withAnomalyDetection(options.detectAnomaly) { train() }`.
///   - body: the code to check.
public func withAnomalyDetection<R>(_ enabled: Bool = true, _ body: () throws -> R) rethrows -> R {
  guard enabled else { return try body() }
  var state = GradMode.state
  state.detectsAnomalies = true
  return try GradMode.$state.withValue(state, operation: body)
}

/// Async form of ``withAnomalyDetection(_:_:)-1kwzh``.
public func withAnomalyDetection<R>(_ enabled: Bool = true, _ body: () async throws -> R) async rethrows -> R
{
  guard enabled else { return try await body() }
  var state = GradMode.state
  state.detectsAnomalies = true
  return try await GradMode.$state.withValue(state, operation: body)
}
