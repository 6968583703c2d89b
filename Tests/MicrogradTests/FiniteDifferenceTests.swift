import Micrograd
import Testing

/// Every op's gradient against central finite differences:
///   ∂f/∂x ≈ (f(x + h) − f(x − h)) / 2h,  error O(h²), here h = 1e-6 and tolerance 1e-6 (relative).
@Suite struct FiniteDifferenceTests {
  enum UnaryOp: String, CaseIterable, Sendable {
    case negate, relu, tanh, exp, log, sigmoid, square, cube, reciprocal, squareRoot
    case addConstant, subtractConstant, constantMinus, multiplyConstant, divideByConstant, constantOver

    func apply(_ x: Value) -> Value {
      switch self {
      case .negate: -x
      case .relu: x.relu()
      case .tanh: x.tanh()
      case .exp: x.exp()
      case .log: x.log()
      case .sigmoid: x.sigmoid()
      case .square: x.pow(2)
      case .cube: x.pow(3)
      case .reciprocal: x.pow(-1)
      case .squareRoot: x.pow(0.5)
      case .addConstant: x + 2.5
      case .subtractConstant: x - 2.5
      case .constantMinus: 2.5 - x
      case .multiplyConstant: x * -1.5
      case .divideByConstant: x / 1.5
      case .constantOver: 1.5 / x
      }
    }
  }

  enum BinaryOp: String, CaseIterable, Sendable {
    case add, subtract, multiply, divide

    func apply(_ a: Value, _ b: Value) -> Value {
      switch self {
      case .add: a + b
      case .subtract: a - b
      case .multiply: a * b
      case .divide: a / b
      }
    }
  }

  /// Points away from the kinks and poles (relu at 0, log and 1/x at 0); log and √ need x > 0.
  static let points: [Double] = [0.3, 1.7, 2.9]
  static let signedPoints: [Double] = [-2.2, -0.4, 0.3, 1.7]

  @Test(arguments: UnaryOp.allCases)
  func unary(_ op: UnaryOp) {
    let usesPositiveDomain = [.log, .squareRoot].contains(op)
    for x0 in usesPositiveDomain ? Self.points : Self.signedPoints {
      let x = Value(x0)
      let y = op.apply(x)
      y.backward()
      let numeric = centralDifference { op.apply(Value($0)).data }(x0)
      #expect(isClose(x.grad, numeric, relative: 1e-6), "\(op) at \(x0): \(x.grad) vs \(numeric)")
    }
  }

  @Test(arguments: BinaryOp.allCases)
  func binary(_ op: BinaryOp) {
    for (a0, b0) in [(1.3, -0.7), (-2.1, 0.9), (0.4, 2.6)] {
      let a = Value(a0), b = Value(b0)
      op.apply(a, b).backward()
      let da = centralDifference { op.apply(Value($0), Value(b0)).data }(a0)
      let db = centralDifference { op.apply(Value(a0), Value($0)).data }(b0)
      #expect(isClose(a.grad, da, relative: 1e-6), "∂\(op)/∂a at (\(a0), \(b0))")
      #expect(isClose(b.grad, db, relative: 1e-6), "∂\(op)/∂b at (\(a0), \(b0))")
    }
  }

  /// A composite through every op at once: f(x, y) = tanh(x·y + eˣ) · σ(y) / log(x² + 1) − relu(y − x).
  @Test func composite() {
    func f(_ x: Value, _ y: Value) -> Value {
      (x * y + x.exp()).tanh() * y.sigmoid() / (x.pow(2) + 1).log() - (y - x).relu()
    }
    let (x0, y0) = (0.8, 1.9)
    let x = Value(x0), y = Value(y0)
    f(x, y).backward()
    let dx = centralDifference { f(Value($0), Value(y0)).data }(x0)
    let dy = centralDifference { f(Value(x0), Value($0)).data }(y0)
    #expect(isClose(x.grad, dx, relative: 1e-6))
    #expect(isClose(y.grad, dy, relative: 1e-6))
  }

  /// σ stays finite and its gradient is 0, not NaN, far out in both tails.
  @Test func sigmoidTails() {
    for x0 in [-800.0, 800.0] {
      let x = Value(x0)
      let s = x.sigmoid()
      s.backward()
      #expect(s.data == (x0 < 0 ? 0 : 1))
      #expect(x.grad == 0)
    }
  }
}

/// x ↦ (f(x + h) − f(x − h)) / 2h.
func centralDifference(h: Double = 1e-6, _ f: @escaping (Double) -> Double) -> (Double) -> Double {
  { x in (f(x + h) - f(x - h)) / (2 * h) }
}
