/// Elementwise functions. Primitives keep the value they need for the derivative (usually the
/// output y) and compute g·f′ in their pullback; composites are built from primitives.
extension Tensor {
  /// eˣ.  d/dx = eˣ = y.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func exp(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map(grain: CPU.transcendentalGrain, Scalar.exp)
    return Tensor(y, op: "exp", parents: [self], file: file, line: line) { g in [g.zipSameShape(y, *)] }
  }

  /// ln x.  d/dx = 1/x.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func log(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let x = storage
    return Tensor(x.map(grain: CPU.transcendentalGrain) { Scalar.log($0) }, op: "log", parents: [self], file: file, line: line) { g in
      [g.zipSameShape(x, /)]
    }
  }

  /// tanh x.  d/dx = 1 − y².
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func tanh(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map(grain: CPU.transcendentalGrain, ScalarFunction.Tanh())
    return Tensor(y, op: "tanh", parents: [self], file: file, line: line) { g in
      [g.zipSameShape(y, ScalarFunction.TanhGradient())]
    }
  }

  /// √x.  d/dx = 1 / (2√x) = 1 / (2y).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sqrt(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map { $0.squareRoot() }
    return Tensor(y, op: "sqrt", parents: [self], file: file, line: line) { g in
      [g.zipSameShape(y) { g, y in g / (2 * y) }]
    }
  }

  /// |x|.  d/dx = sign(x), taken as 0 at x = 0 (as PyTorch does).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func abs(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let x = storage
    return Tensor(x.map { Swift.abs($0) }, op: "abs", parents: [self], file: file, line: line) { g in
      [g.zipSameShape(x) { g, x in x > 0 ? g : (x < 0 ? -g : 0) }]
    }
  }

  /// xᵖ for a constant exponent p.  d/dx = p·xᵖ⁻¹.
  ///
  /// For a non-integer p, negative x gives NaN, as in PyTorch.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func pow(_ exponent: Scalar, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let x = storage
    let y: Storage<Scalar> =
      switch exponent {
      case 2: x.map { $0 * $0 }
      case 1: x.copy()
      default: x.map(grain: CPU.transcendentalGrain) { Scalar.cPow($0, exponent) }
      }
    return Tensor(y, op: "pow", parents: [self], file: file, line: line) { g in
      let p = exponent
      return [
        g.zipSameShape(x) { g, x in
          switch p {
          case 0: 0
          case 1: g
          case 2: g * 2 * x
          default: g * p * Scalar.cPow(x, p - 1)
          }
        }
      ]
    }
  }

  /// The logistic function σ(x) = 1 / (1 + e⁻ˣ).  d/dx = y(1 − y).
  ///
  /// A primitive rather than `1 / (1 + exp(−x))` for stability: the composite overflows e⁻ˣ for very
  /// negative x and its gradient becomes 0·∞ = NaN. Here e^(−|x|) never overflows:
  /// σ(x) = 1 / (1 + e⁻ˣ) for x ≥ 0, and eˣ / (1 + eˣ) for x < 0.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sigmoid(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map(grain: CPU.transcendentalGrain, stableSigmoid)
    return Tensor(y, op: "sigmoid", parents: [self], file: file, line: line) { g in
      [g.zipSameShape(y) { g, y in g * y * (1 - y) }]
    }
  }
}

/// σ(x) without overflow for either sign of x.
@inline(__always)
func stableSigmoid<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  if x >= 0 { return 1 / (1 + Scalar.exp(-x)) }
  let e = Scalar.exp(x)
  return e / (1 + e)
}
