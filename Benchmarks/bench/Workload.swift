/// A benchmark workload: something that runs one training step (or one product, or one epoch) at a
/// time, so that the runner can warm it up, time each step and count its allocations.
///
/// A workload builds its model and data in `init`, outside every measurement but inside the peak-RSS
/// window. Each step must do the real work again: nothing is cached between steps except what a
/// training loop keeps (parameters, optimizer state, data).
protocol Workload: AnyObject {
  /// The name on the command line and in the output, such as `moons-tensor`.
  static var name: String { get }
  /// What runs the step: `awesomegrad` or `micrograd-swift`.
  static var engine: String { get }
  /// `float32` or `float64`, as the reference scripts write it.
  static var dtype: String { get }
  /// Timed steps when `--steps` is not given.
  static var defaultSteps: Int { get }
  /// Untimed steps before timing, to fault in memory and settle caches.
  static var warmUpSteps: Int { get }
  /// Untimed steps after timing whose mallocs are counted (counting is off while steps are timed).
  static var countedSteps: Int { get }

  /// Builds the model and data with fixed seeds.
  init()

  /// Runs one step.
  func step()

  /// Runs a cheaper part of a step for warm-up, when a whole step is long (an epoch). Defaults to
  /// `step`.
  func warmUp()

  /// Floating-point operations per step, for a `gflops` column; nil when not meaningful.
  var flopsPerStep: Double? { get }

  /// Extra keys for the JSON line, such as `"data": "synthetic"`.
  var extraFields: [(String, JSONValue)] { get }
}

extension Workload {
  static var warmUpSteps: Int { 3 }
  static var countedSteps: Int { 5 }
  func warmUp() { step() }
  var flopsPerStep: Double? { nil }
  var extraFields: [(String, JSONValue)] { [] }
}

/// Every workload `bench` knows, in the order `--all` runs them.
var allWorkloads: [any Workload.Type] {
  [
    MoonsValue.self, MoonsTensor.self, MLP784.self, Gemm1024.self, FashionMLPEpoch.self, CharLMStep.self,
    CNNFashion.self, CharLM1024Step.self, Attention1024.self,
  ]
}
