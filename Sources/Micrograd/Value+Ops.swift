#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The forward half of every op. Each builds its output node and records the op; the matching
/// local derivative is the case of the same name in `Value+Backward.swift`.
///
/// A `Double` on either side of `+ - * /` is a constant: it gets no gradient.
extension Value {
  // MARK: Primitives

  /// `a + b`.  ∂/∂a = 1, ∂/∂b = 1.
  public static func + (lhs: Value, rhs: Value) -> Value {
    Value(lhs.data + rhs.data, .add(.passRetained(lhs), .passRetained(rhs)))
  }

  /// `a + c`.  ∂/∂a = 1.
  public static func + (lhs: Value, rhs: Double) -> Value {
    Value(lhs.data + rhs, .addConstant(.passRetained(lhs), rhs))
  }

  /// `a · b`.  ∂/∂a = b, ∂/∂b = a.
  public static func * (lhs: Value, rhs: Value) -> Value {
    Value(lhs.data * rhs.data, .multiply(.passRetained(lhs), .passRetained(rhs)))
  }

  /// `a · c`.  ∂/∂a = c.
  public static func * (lhs: Value, rhs: Double) -> Value {
    Value(lhs.data * rhs, .multiplyConstant(.passRetained(lhs), rhs))
  }

  /// `aᶜ` for a constant exponent.  ∂/∂a = c · aᶜ⁻¹.  (micrograd's `a ** c`.)
  public func pow(_ exponent: Double) -> Value {
    Value(Micrograd.power(data, exponent), .power(.passRetained(self), exponent))
  }

  /// `max(a, 0)`.  ∂/∂a = 1 if the output is positive, else 0.
  ///
  /// NaN follows PyTorch (micrograd's Python gives it gradient 0): relu(NaN) = NaN and its gradient
  /// passes through, since NaN ≤ 0 is false. −0 stays −0, with gradient 0.
  public func relu() -> Value {
    Value(data < 0 ? 0 : data, .relu(.passRetained(self)))
  }

  /// `tanh(a)`.  ∂/∂a = 1 − tanh²(a).
  public func tanh() -> Value {
    Value(Micrograd.hyperbolicTangent(data), .tanh(.passRetained(self)))
  }

  /// `eᵃ`.  ∂/∂a = eᵃ.
  public func exp() -> Value {
    Value(Micrograd.exponential(data), .exp(.passRetained(self)))
  }

  /// `ln(a)`.  ∂/∂a = 1/a.
  public func log() -> Value {
    Value(Micrograd.naturalLog(data), .log(.passRetained(self)))
  }

  /// `σ(a) = 1 / (1 + e⁻ᵃ)`.  ∂/∂a = σ(a)(1 − σ(a)).
  /// Computed as `eᵃ / (1 + eᵃ)` for negative `a`, so no `exp` overflows.
  public func sigmoid() -> Value {
    let s: Double
    if data >= 0 {
      s = 1 / (1 + Micrograd.exponential(-data))
    } else {
      let e = Micrograd.exponential(data)
      s = e / (1 + e)
    }
    return Value(s, .sigmoid(.passRetained(self)))
  }

  // MARK: Composed from the primitives, as in micrograd

  /// `c + a`, the same node as `a + c`.
  public static func + (lhs: Double, rhs: Value) -> Value { rhs + lhs }
  /// `c · a`, the same node as `a · c`.
  public static func * (lhs: Double, rhs: Value) -> Value { rhs * lhs }

  /// `−a = a · (−1)`.
  public static prefix func - (value: Value) -> Value { value * -1 }

  /// `a − b = a + (−b)`.
  public static func - (lhs: Value, rhs: Value) -> Value { lhs + (-rhs) }
  /// `a − c = a + (−c)`.
  public static func - (lhs: Value, rhs: Double) -> Value { lhs + (-rhs) }
  /// `c − a = (−a) + c`.
  public static func - (lhs: Double, rhs: Value) -> Value { (-rhs) + lhs }

  /// `a / b = a · b⁻¹`.
  public static func / (lhs: Value, rhs: Value) -> Value { lhs * rhs.pow(-1) }
  /// `a / c = a · (1/c)`.
  public static func / (lhs: Value, rhs: Double) -> Value { lhs * (1 / rhs) }
  /// `c / a = a⁻¹ · c`.
  public static func / (lhs: Double, rhs: Value) -> Value { rhs.pow(-1) * lhs }

  // MARK: Compound assignment (rebinds the variable to a new node; the old node stays in the graph)

  /// Rebinds `lhs` to the new node a + b.
  public static func += (lhs: inout Value, rhs: Value) { lhs = lhs + rhs }
  /// Rebinds `lhs` to the new node a + b for a constant b.
  public static func += (lhs: inout Value, rhs: Double) { lhs = lhs + rhs }
  /// Rebinds `lhs` to the new node a − b.
  public static func -= (lhs: inout Value, rhs: Value) { lhs = lhs - rhs }
  /// Rebinds `lhs` to the new node a − b for a constant b.
  public static func -= (lhs: inout Value, rhs: Double) { lhs = lhs - rhs }
  /// Rebinds `lhs` to the new node a · b.
  public static func *= (lhs: inout Value, rhs: Value) { lhs = lhs * rhs }
  /// Rebinds `lhs` to the new node a · b for a constant b.
  public static func *= (lhs: inout Value, rhs: Double) { lhs = lhs * rhs }
  /// Rebinds `lhs` to the new node a / b.
  public static func /= (lhs: inout Value, rhs: Value) { lhs = lhs / rhs }
  /// Rebinds `lhs` to the new node a / b for a constant b.
  public static func /= (lhs: inout Value, rhs: Double) { lhs = lhs / rhs }
}

// MARK: - The C math library under names that do not clash with the methods above

@inline(__always) func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func hyperbolicTangent(_ x: Double) -> Double { tanh(x) }
@inline(__always) func exponential(_ x: Double) -> Double { exp(x) }
@inline(__always) func naturalLog(_ x: Double) -> Double { log(x) }
