/// Elementwise functions. Primitives keep the value they need for the derivative (usually the
/// output y) and compute g·f′ in their pullback; composites are built from primitives.
extension Tensor {
  /// eˣ.  d/dx = eˣ = y.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func exp(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map(grain: CPU.transcendentalGrain, Scalar.exp)
    return Tensor(y, op: "exp", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, y in [g * y] } }
      return [g.zipSameShape(y, *)]
    }
  }

  /// ln x.  d/dx = 1/x.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func log(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let x = storage
    return Tensor(x.map(grain: CPU.transcendentalGrain) { Scalar.log($0) }, op: "log", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, x, _ in [g / x[0]] } }
      return [g.zipSameShape(x, /)]
    }
  }

  /// tanh x.  d/dx = 1 − y².
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func tanh(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map(grain: CPU.transcendentalGrain, ScalarFunction.Tanh())
    return Tensor(y, op: "tanh", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, y in [Tensor.tanhBackward(g, y)] } }
      return [g.zipSameShape(y, ScalarFunction.TanhGradient())]
    }
  }

  /// g·(1 − y²), tanh's pullback as an op of its own (PyTorch's `tanh_backward`), so that a gradient
  /// recorded with createGraph is one node, not three.  ∂/∂g = 1 − y², ∂/∂y = −2·g·y.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func tanhBackward(_ gradient: Tensor, _ output: Tensor) -> Tensor {
    let (g, y) = (gradient.storage, output.storage)
    let (needG, needY) = (gradient.requiresGrad, output.requiresGrad)
    return Tensor(g.zipSameShape(y, ScalarFunction.TanhGradient()), op: "tanhBackward", parents: [gradient, output]) {
      upstream, graph in
      if let graph {
        return graph.record { u, p, _ in
          [graph.wants(0) ? Tensor.tanhBackward(u, p[1]) : nil, graph.wants(1) ? -2 * u * p[0] * p[1] : nil]
        }
      }
      return [
        needG ? upstream.zipSameShape(y, ScalarFunction.TanhGradient()) : nil,
        needY ? upstream.zipSameShape(g.zipSameShape(y, *)) { u, gy in -2 * u * gy } : nil,
      ]
    }
  }

  /// √x.  d/dx = 1 / (2√x) = 1 / (2y).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sqrt(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map { $0.squareRoot() }
    return Tensor(y, op: "sqrt", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, y in [g / (2 * y)] } }
      return [g.zipSameShape(y) { g, y in g / (2 * y) }]
    }
  }

  /// |x|.  d/dx = sign(x), taken as 0 at x = 0 (as PyTorch does).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func abs(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let x = storage
    return Tensor(x.map { Swift.abs($0) }, op: "abs", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        return graph.record { g, _, _ in [g * Tensor(x.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })] }
      }
      return [g.zipSameShape(x) { g, x in x > 0 ? g : (x < 0 ? -g : 0) }]
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
    return Tensor(y, op: "pow", parents: [self], file: file, line: line) { g, graph in
      let p = exponent
      if let graph {
        return graph.record { g, x, _ in [p == 0 ? g * 0 : g * p * x[0].pow(p - 1)] }
      }
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

  /// aᵇ elementwise for tensors a and b, broadcast against each other: PyTorch's `pow(a, b)`.
  ///
  ///     ∂/∂a = b·aᵇ⁻¹,  ∂/∂b = aᵇ·ln a (taken as 0 where a = 0 and b ≥ 0, as PyTorch)
  ///
  /// Negative a with a non-integer b gives NaN.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func pow(_ base: Tensor, _ exponent: Tensor, file: StaticString = #fileID, line: UInt = #line)
    -> Tensor
  {
    guard broadcastShape(base.shape, exponent.shape) != nil else {
      shapeFailure(
        "pow", "the base and the exponent do not broadcast", shapes: [base.shape, exponent.shape], file: file,
        line: line)
    }
    let (a, b) = (base.storage, exponent.storage)
    let (needA, needB) = (base.requiresGrad, exponent.requiresGrad)
    let y = Storage.broadcasting(a, b, op: "pow") { Scalar.pow($0, $1) }
    return Tensor(y, op: "pow", parents: [base, exponent], file: file, line: line) { g, graph in
      // Where ln a is replaced by 0: a = 0 and b ≥ 0.
      let logMask = needB ? Storage.broadcasting(a, b, op: "pow") { $0 == 0 && $1 >= 0 ? 0 : 1 } : nil
      if let graph {
        return graph.record { g, x, y in
          [
            graph.wants(0) ? (g * x[1] * Tensor.pow(x[0], x[1] - 1)).summed(to: a.shape) : nil,
            graph.wants(1) ? (g * y * (x[0] * Tensor(logMask!) + (1 - Tensor(logMask!))).log()).summed(to: b.shape) : nil,
          ]
        }
      }
      let ga = needA
        ? Storage.broadcasting(g, Storage.broadcasting(a, b, op: "pow") { $1 * Scalar.pow($0, $1 - 1) }, op: "pow", *) : nil
      let gb = needB
        ? Storage.broadcasting(
          Storage.broadcasting(g, y, op: "pow", *), Storage.broadcasting(a, logMask!, op: "pow") { $1 == 0 ? 0 : Scalar.log($0) },
          op: "pow", *) : nil
      return [ga.map { unbroadcast($0, to: a.shape) }, gb.map { unbroadcast($0, to: b.shape) }]
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
    return Tensor(y, op: "sigmoid", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, y in [g * y * (1 - y)] } }
      return [g.zipSameShape(y) { g, y in g * y * (1 - y) }]
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
