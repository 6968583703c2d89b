import Foundation

/// A file of reference cases written by `Tests/AwesomegradTests/Fixtures/make_torch_fixtures.py`:
/// PyTorch's float64 outputs and gradients for a battery of ops.
public struct Fixture: Decodable, Sendable {
  /// What the file contains and how it was made.
  public var description: String
  /// The library and settings that computed the reference values, e.g. `torch 2.15.0, float64, CPU`.
  public var reference: String
  /// `grads[i] = d/d(inputs[i]) of sum(output * upstream)`.
  public var gradientDefinition: String
  public var seed: Int
  public var cases: [Case]

  enum CodingKeys: String, CodingKey {
    case description, reference, seed, cases
    case gradientDefinition = "gradient_definition"
  }

  /// Reads and decodes a fixture file.
  public init(contentsOf url: URL) throws {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw FixtureError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    do {
      // The edge fixture writes non-finite numbers as the bare JSON5 tokens NaN and Infinity.
      let decoder = JSONDecoder()
      decoder.allowsJSON5 = true
      self = try decoder.decode(Fixture.self, from: data)
    } catch {
      throw FixtureError.malformed(path: url.path, reason: "\(error)")
    }
  }

  /// One op applied to fixed inputs, with PyTorch's output and gradients.
  public struct Case: Decodable, Sendable {
    public var name: String
    /// The op's PyTorch-flavoured name, e.g. `log_softmax`.
    public var op: String
    public var attrs: [String: Attribute]
    public var inputs: [Array]
    public var output: Array
    /// The gradient fed to the output; the reference gradients are those of sum(output · upstream).
    /// Nil for an integer output (argmax), which has no gradient.
    public var upstream: Array?
    /// One gradient per input, nil for integer inputs; nil altogether when no input is differentiable.
    public var grads: [Array?]?
    /// The second-order format (`torch_ops_grad2_*.json`): a direction u_i per floating-point input
    /// (nil for integer and boolean ones).
    public var directions: [Array?]?
    /// grads2[i] = d/d(inputs[i]) of Σ_j sum(grads[j] · directions[j]), the first gradients taken
    /// with `create_graph=True`: the Hessian of sum(output · upstream) applied to the directions.
    public var grads2: [Array?]?
  }

  /// A shaped array in row-major order. Integer inputs (class labels, indices) have dtype `int64`,
  /// boolean ones (masks, `where` conditions) `bool` with data 0/1 (format v2).
  public struct Array: Decodable, Sendable {
    public var shape: [Int]
    public var data: [Double]
    public var dtype: String?

    /// Whether the values are integers (indices) rather than differentiable reals.
    public var isInteger: Bool { dtype?.hasPrefix("int") ?? false }
    /// Whether the values are booleans (a mask).
    public var isBool: Bool { dtype == "bool" }
  }

  /// An op attribute: a number, a flag, a string, a list of numbers, or null.
  public enum Attribute: Decodable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case numbers([Double])

    public init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if container.decodeNil() {
        self = .null
      } else if let flag = try? container.decode(Bool.self) {
        self = .bool(flag)
      } else if let number = try? container.decode(Double.self) {
        self = .number(number)
      } else if let text = try? container.decode(String.self) {
        self = .string(text)
      } else {
        self = .numbers(try container.decode([Double].self))
      }
    }

    public var description: String {
      switch self {
      case .null: "null"
      case .bool(let flag): "\(flag)"
      case .number(let number): "\(number)"
      case .string(let text): text
      case .numbers(let numbers): "\(numbers)"
      }
    }
  }
}

/// Why a fixture file could not be used.
public enum FixtureError: Error, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case malformed(path: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      "cannot read fixture \(path) (\(reason)); check the path"
    case .malformed(let path, let reason):
      "fixture \(path) is not in the torch_ops format (see its \"description\" field, and "
        + "make_torch_fixtures.py): \(reason)"
    }
  }
}
