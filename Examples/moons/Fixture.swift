import Foundation

/// A recorded run of micrograd's moons demo (the format of
/// `Tests/MicrogradTests/Fixtures/micrograd_moons_seed1337.json`; its `description` field says how
/// it was made). Only the fields this example uses are decoded.
struct MoonsFixture: Decodable {
  /// One entry of the trace, recorded before the update of step `step`.
  struct Record: Decodable {
    let step: Int
    let loss: Double
    let accuracy: Double
  }

  /// `[n, 2]` points.
  let X: [[Double]]
  /// `[n]` labels, −1 or +1.
  let y: [Double]
  /// `[inputs, hidden…, outputs]`, e.g. `[2, 16, 16, 1]`.
  let layerSizes: [Int]
  /// In micrograd order: per layer, per neuron, its weights then its bias.
  let initialParameters: [Double]
  let trace: [Record]

  enum CodingKeys: String, CodingKey {
    case X, y, trace
    case layerSizes = "layer_sizes"
    case initialParameters = "initial_parameters"
  }

  /// Reads and checks a fixture file.
  static func load(path: String) throws -> MoonsFixture {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw MoonsError("cannot read the moons fixture \(path): \(error.localizedDescription)")
    }
    let fixture: MoonsFixture
    do {
      fixture = try JSONDecoder().decode(MoonsFixture.self, from: data)
    } catch {
      throw MoonsError(
        "\(path) is not a moons fixture (see the description field of micrograd_moons_seed1337.json): \(error)"
      )
    }
    try fixture.validate(path: path)
    return fixture
  }

  private func validate(path: String) throws {
    guard X.count == y.count, !X.isEmpty, X.allSatisfy({ $0.count == 2 }) else {
      throw MoonsError(
        "\(path): X must be [n, 2] and y must have n labels (X has \(X.count) rows, y \(y.count))")
    }
    guard layerSizes.count >= 2, layerSizes.first == 2, layerSizes.last == 1 else {
      throw MoonsError("\(path): layer_sizes must start with 2 and end with 1, got \(layerSizes)")
    }
    let expected = parameterCount(layerSizes)
    guard initialParameters.count == expected else {
      throw MoonsError(
        "\(path): layer_sizes \(layerSizes) need \(expected) initial_parameters, the file has \(initialParameters.count)"
      )
    }
  }
}

/// A file that cannot be read or written, with the reason and what to do.
struct MoonsError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Weights and biases of a fully connected network with these layer sizes: Σ out·(in + 1).
func parameterCount(_ layerSizes: [Int]) -> Int {
  zip(layerSizes, layerSizes.dropFirst()).reduce(0) { $0 + $1.1 * ($1.0 + 1) }
}
