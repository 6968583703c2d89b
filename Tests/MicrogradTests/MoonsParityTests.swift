import Foundation
import Micrograd
import Testing

/// micrograd's demo, step for step against a trace recorded with Python micrograd
/// (`Fixtures/micrograd_moons_seed1337.json`; its `description` field gives the recipe, and
/// `Fixtures/make_moons_fixture.py` makes one for any seed).
@Suite struct MoonsParityTests {
  /// For k = 0..<100:
  ///   scoreᵢ = mlp(xᵢ),  loss = (Σᵢ relu(1 − yᵢ·scoreᵢ)) · (1/n) + 1e-4 · Σₚ p²,
  ///   accuracy = mean((yᵢ > 0) == (scoreᵢ > 0)),  p ← p − (1 − 0.9k/100) · ∂loss/∂p.
  /// Every loss matches to 1e-9 relative, every accuracy exactly, and so do the final parameters.
  @Test func matchesMicrogradTrace() throws {
    let fixture = try MoonsFixture.load("micrograd_moons_seed1337")
    let sizes = fixture.layerSizes
    let model = MLP(sizes[0], Array(sizes.dropFirst()), parameters: fixture.initialParameters)
    #expect(model.parameters.count == fixture.initialParameters.count)

    for record in fixture.trace {
      let k = record.step
      let (loss, accuracy) = demoLoss(model, fixture.X, fixture.y)
      #expect(isClose(loss.data, record.loss, relative: 1e-9), "loss at step \(k): \(loss.data) vs \(record.loss)")
      #expect(accuracy == record.accuracy, "accuracy at step \(k)")
      model.zeroGrad()
      loss.backward()
      let learningRate = 1.0 - 0.9 * Double(k) / 100
      for p in model.parameters { p.data -= learningRate * p.grad }
    }

    let final = model.parameters.map(\.data)
    let worst = zip(final, fixture.finalParameters).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .nan
    #expect(worst <= 1e-9, "largest relative deviation of the final parameters: \(worst)")
  }

  /// The demo's loss, with micrograd's order of operations:
  /// `losses = [(1 + -yi*scorei).relu() ...]`, `data_loss = sum(losses) * (1.0 / len(losses))`,
  /// `reg_loss = alpha * sum((p*p for p in model.parameters()))`, `total = data_loss + reg_loss`.
  func demoLoss(_ model: MLP, _ X: [[Double]], _ y: [Double]) -> (loss: Value, accuracy: Double) {
    var dataLoss = Value(0)
    var correct = 0
    for (xi, yi) in zip(X, y) {
      let score = model(xi.map { Value($0) })[0]
      dataLoss = dataLoss + (1 + score * -yi).relu()
      if (yi > 0) == (score.data > 0) { correct += 1 }
    }
    dataLoss = dataLoss * (1.0 / Double(X.count))
    var regLoss = Value(0)
    for p in model.parameters { regLoss = regLoss + p * p }
    return (dataLoss + regLoss * 1e-4, Double(correct) / Double(X.count))
  }
}

/// The fixture format (see its `description` field).
struct MoonsFixture: Decodable {
  struct Record: Decodable {
    let step: Int
    let loss: Double
    let accuracy: Double
  }
  let X: [[Double]]
  let y: [Double]
  let layerSizes: [Int]
  let initialParameters: [Double]
  let trace: [Record]
  let finalParameters: [Double]

  enum CodingKeys: String, CodingKey {
    case X, y, trace
    case layerSizes = "layer_sizes"
    case initialParameters = "initial_parameters"
    case finalParameters = "final_parameters"
  }

  static func load(_ name: String) throws -> MoonsFixture {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode(MoonsFixture.self, from: Data(contentsOf: url))
  }
}
