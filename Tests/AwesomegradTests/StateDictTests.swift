import Foundation
import Testing

@testable import Awesomegrad

/// Module state dicts and optimizer state: loading by name with PyTorch's errors, and resuming a run
/// bit for bit.
@Suite struct StateDictTests {
  static func model(seed: UInt64) -> MLP<Double> {
    var rng = SeededGenerator(seed: seed)
    return MLP(inputs: 4, hiddenSizes: [8], outputs: 3, using: &rng)
  }

  /// Copies of a module's state, as a checkpoint would hold them.
  static func snapshot<S>(_ state: [String: Tensor<S>]) -> [String: Tensor<S>] {
    state.mapValues { Tensor($0.storage.copy()) }
  }

  @Test func loadCopiesValuesByName() throws {
    let source = Self.model(seed: 1), target = Self.model(seed: 2)
    let result = try target.loadStateDict(source.stateTensors())
    #expect(result.missingKeys.isEmpty && result.unexpectedKeys.isEmpty)
    for ((name, a), (_, b)) in zip(source.namedParameters, target.namedParameters) {
      #expect(a.scalars == b.scalars, "\(name)")
      #expect(a.storage.buffer !== b.storage.buffer)
    }
  }

  /// Missing and unexpected keys and shape mismatches are reported by name, as PyTorch does.
  @Test func strictLoadNamesEveryProblem() {
    let target = Self.model(seed: 2)
    var state = Self.snapshot(Self.model(seed: 1).stateTensors())
    state["layers.0.bias"] = nil
    state["layers.9.weight"] = Tensor.zeros([1])
    state["layers.2.weight"] = Tensor.zeros([3, 7])
    #expect {
      try target.loadStateDict(state)
    } throws: { error in
      guard let error = error as? StateDictError else { return false }
      return error.missingKeys == ["layers.0.bias"] && error.unexpectedKeys == ["layers.9.weight"]
        && error.shapeMismatches == [.init(name: "layers.2.weight", expected: [3, 8], found: [3, 7])]
        && error.description.contains("size mismatch for layers.2.weight")
    }
    // Nothing was copied by the failed load.
    #expect(target.linearLayers[0].weight.scalars == Self.model(seed: 2).linearLayers[0].weight.scalars)
    // Non-strict: missing and unexpected keys are returned, the rest loads.
    state["layers.2.weight"] = nil
    let result = try? target.loadStateDict(state, strict: false)
    #expect(result?.missingKeys == ["layers.0.bias", "layers.2.weight"])
    #expect(result?.unexpectedKeys == ["layers.9.weight"])
  }

  /// Train 10 steps; or train 4, save the model and optimizer state, build fresh objects, load, and
  /// train 6 more. The parameters agree bit for bit, for SGD with momentum and for Adam.
  @Test(arguments: ["sgd", "adam", "adamw"])
  func resumedRunEqualsUninterruptedRun(optimizerName: String) throws {
    func makeOptimizer(_ m: MLP<Double>) -> any StatefulOptimizer<Double> {
      switch optimizerName {
      case "sgd": SGD(m.parameters, learningRate: 0.1, momentum: 0.9)
      case "adam": Adam(m.parameters, learningRate: 0.01)
      default: AdamW(m.parameters, learningRate: 0.01)
      }
    }
    var rng = SeededGenerator(seed: 9)
    let x = Tensor<Double>.randomNormal([16, 4], using: &rng)
    let labels = (0..<16).map { $0 % 3 }
    func train(_ m: MLP<Double>, _ o: any StatefulOptimizer<Double>, steps: Int) {
      for _ in 0..<steps {
        o.zeroGrad()
        crossEntropy(m(x), labels: labels).backward()
        o.step()
      }
    }
    let straight = Self.model(seed: 5)
    train(straight, makeOptimizer(straight), steps: 10)

    let first = Self.model(seed: 5)
    let firstOptimizer = makeOptimizer(first)
    train(first, firstOptimizer, steps: 4)
    let savedModel = Self.snapshot(first.stateTensors())
    let savedOptimizer = firstOptimizer.stateTensors()
    let resumed = Self.model(seed: 77)
    try resumed.loadStateDict(savedModel)
    let resumedOptimizer = makeOptimizer(resumed)
    try resumedOptimizer.loadStateTensors(savedOptimizer)
    train(resumed, resumedOptimizer, steps: 6)
    for (a, b) in zip(straight.parameters, resumed.parameters) { #expect(a.scalars == b.scalars) }
  }

  @Test func optimizerStateErrorsNameTheKey() {
    let m = Self.model(seed: 1)
    let adam = Adam(m.parameters)
    #expect(throws: OptimizerStateError.unexpectedKey("7.exp_avg")) {
      try adam.loadStateTensors(["7.exp_avg": Tensor.zeros([1])])
    }
    #expect(throws: OptimizerStateError.incomplete(parameter: 0, missing: "exp_avg_sq")) {
      try adam.loadStateTensors(["0.exp_avg": Tensor.zeros([8, 4]), "0.step": Tensor(scalar: 1)])
    }
  }
}

/// Modules and optimizers through safetensors files.
@Suite struct ModuleCheckpointTests {
  static func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("awesomegrad-\(UInt64.random(in: 0...UInt64.max))-\(name)").path
  }

  final class Counted: Module<Float> {
    let weight = Tensor<Float>([1, 2, 3], shape: [3])
    let count = Tensor<Float>(scalar: 7)
    override init() {
      super.init()
      registerParameter("weight", weight)
      registerBuffer("num_batches_tracked", count, kind: .integer)
    }
  }

  /// Parameters as F32, an integer buffer as I64 (PyTorch's dtype for num_batches_tracked), and
  /// the values back by name.
  @Test func moduleRoundTripWithTypes() throws {
    let path = Self.temporaryPath("counted.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Counted().save(to: path, metadata: ["format": "pt"])
    let file = try SafeTensorsFile(contentsOf: path)
    #expect(file.entries["weight"]?.dtype == .F32)
    #expect(file.entries["num_batches_tracked"]?.dtype == .I64)
    #expect(file.metadata == ["format": "pt"])
    let target = Counted()
    target.weight.updateValues { $0.update(repeating: 0) }
    target.count.updateValues { $0[0] = 0 }
    try target.load(from: path)
    #expect(target.weight.scalars == [1, 2, 3] && target.count.scalars == [7])
  }

  /// Stop after 3 Adam steps, save model and optimizer to files, load into fresh objects, train 4
  /// more: bit for bit the parameters of 7 uninterrupted steps.
  @Test func resumeThroughFiles() throws {
    let modelPath = Self.temporaryPath("model.safetensors"), optimizerPath = Self.temporaryPath("adam.safetensors")
    defer {
      try? FileManager.default.removeItem(atPath: modelPath)
      try? FileManager.default.removeItem(atPath: optimizerPath)
    }
    var rng = SeededGenerator(seed: 3)
    let x = Tensor<Float>.randomNormal([8, 4], using: &rng)
    let labels = (0..<8).map { $0 % 3 }
    func fresh(_ seed: UInt64) -> MLP<Float> {
      var g = SeededGenerator(seed: seed)
      return MLP(inputs: 4, hiddenSizes: [6], outputs: 3, using: &g)
    }
    func train(_ m: MLP<Float>, _ o: Adam<Float>, _ steps: Int) {
      for _ in 0..<steps {
        o.zeroGrad()
        crossEntropy(m(x), labels: labels).backward()
        o.step()
      }
    }
    let straight = fresh(1)
    train(straight, Adam(straight.parameters, learningRate: 0.01), 7)
    let first = fresh(1)
    let firstOptimizer = Adam(first.parameters, learningRate: 0.01)
    train(first, firstOptimizer, 3)
    try first.save(to: modelPath)
    try firstOptimizer.save(to: optimizerPath)
    let resumed = fresh(2)
    try resumed.load(from: modelPath)
    let resumedOptimizer = Adam(resumed.parameters, learningRate: 0.01)
    try resumedOptimizer.load(from: optimizerPath)
    train(resumed, resumedOptimizer, 4)
    for (a, b) in zip(straight.parameters, resumed.parameters) { #expect(a.scalars == b.scalars) }
  }

  /// A file for another model is refused with the names that do not fit.
  @Test func loadingTheWrongModelNamesTheKeys() throws {
    let path = Self.temporaryPath("counted2.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Counted().save(to: path)
    var rng = SeededGenerator(seed: 0)
    let other = MLP<Float>(inputs: 2, hiddenSizes: [], outputs: 1, using: &rng)
    #expect {
      try other.load(from: path)
    } throws: { error in
      guard let error = error as? StateDictError else { return false }
      return error.missingKeys == ["layers.0.weight", "layers.0.bias"]
        && error.unexpectedKeys == ["num_batches_tracked", "weight"]
    }
  }
}
