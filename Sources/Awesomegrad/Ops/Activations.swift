/// The activation functions of neural networks beyond `tanh` and `sigmoid`: ReLU and its leaky form,
/// GELU (exact and tanh-approximated), SiLU and softplus.
extension Tensor {
  /// max(x, 0).  d/dx = 1 where x > 0, else 0.
  ///
  /// As PyTorch: NaN stays NaN and passes the gradient through (relu(NaN) = NaN, and the pullback
  /// zeroes only where y ≤ 0, which NaN is not); −0 stays −0 and, like 0, gets no gradient.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func relu(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let y = storage.map(ScalarFunction.ReLU())
    return Tensor(y, op: "relu", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g * Tensor(y.map { $0 > 0 ? 1 : 0 })] } }
      return [g.zipSameShape(y, ScalarFunction.ReLUGradient())]
    }
  }

  /// x where x > 0, else `negativeSlope`·x.  d/dx = 1 where x > 0, else `negativeSlope`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func leakyReLU(negativeSlope: Scalar = 0.01, file: StaticString = #fileID, line: UInt = #line)
    -> Tensor
  {
    let x = storage
    let y = x.map { $0 > 0 ? $0 : negativeSlope * $0 }
    return Tensor(y, op: "leakyReLU", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g * Tensor(x.map { $0 > 0 ? 1 : negativeSlope })] } }
      return [g.zipSameShape(x) { g, x in x > 0 ? g : negativeSlope * g }]
    }
  }

  /// Gaussian error linear unit, GELU(x) = x·Φ(x), with Φ the standard normal CDF.
  ///
  /// - `.none` (exact): Φ(x) = ½(1 + erf(x/√2)).  d/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
  /// - `.tanh`: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), one fused primitive (GELU+Tanh.swift).
  ///
  /// The names follow PyTorch's `gelu(x, approximate='none' | 'tanh')`.
  public func gelu(approximate: GELUApproximation = .none, file: StaticString = #fileID, line: UInt = #line)
    -> Tensor
  {
    switch approximate {
    case .none: return exactGELU(file: file, line: line)
    case .tanh: return tanhGELU(file: file, line: line)
    }
  }

  /// x·Φ(x) with the exact normal CDF; see ``gelu(approximate:file:line:)``.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func exactGELU(file: StaticString, line: UInt) -> Tensor {
    if Scalar.self == Float.self { return exactGELUFloat(file: file, line: line) }
    let x = storage
    let inverseSqrt2 = Scalar(0.7071067811865476)  // 1/√2
    let inverseSqrt2Pi = Scalar(0.3989422804014327)  // 1/√(2π)
    let y = x.map(grain: CPU.transcendentalGrain) { $0 * 0.5 * (1 + Scalar.erf($0 * inverseSqrt2)) }
    return Tensor(y, op: "gelu", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, x, _ in [g * x[0].exactGELUDerivative()] } }
      return [
        g.zipSameShape(x, grain: CPU.transcendentalGrain) { g, x in
          let cdf = 0.5 * (1 + Scalar.erf(x * inverseSqrt2))
          let density = inverseSqrt2Pi * Scalar.exp(-0.5 * x * x)
          return g * (cdf + x * density)
        }
      ]
    }
  }

  /// The exact GELU in Float through vectorised kernels (GELU+Exact.swift): erf by a rational
  /// function and e^(−x²/2) by a polynomial, within 2·10⁻⁷ of libm's, instead of calls to `erff` and `expf`.
  func exactGELUFloat(file: StaticString, line: UInt) -> Tensor {
    let x = unsafeBitCast(storage, to: Storage<Float>.self)
    let y = Storage<Float>(uninitializedShape: x.shape)
    CPU.exactGELUForward(x.buffer.base, y.buffer.base, count: x.count)
    return Tensor(unsafeBitCast(y, to: Storage<Scalar>.self), op: "gelu", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, x, _ in [g * x[0].exactGELUDerivative()] } }
      let gradient = unsafeBitCast(g, to: Storage<Float>.self)
      let out = Storage<Float>(uninitializedShape: x.shape)
      CPU.exactGELUBackward(gradient.buffer.base, x.buffer.base, out.buffer.base, count: x.count)
      return [unsafeBitCast(out, to: Storage<Scalar>.self)]
    }
  }

  /// SiLU (swish), x·σ(x), composed from ``sigmoid(file:line:)``.
  public func silu(file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    self * sigmoid(file: file, line: line)
  }

  /// softplus(x) = ln(1 + eˣ), a smooth ReLU.  d/dx = σ(x).
  ///
  /// Computed as max(x, 0) + ln(1 + e^(−|x|)), which never overflows. As in PyTorch, inputs above
  /// `threshold` return x itself (the two differ by less than e⁻²⁰ ≈ 2·10⁻⁹ there); pass `nil` for
  /// the exact formula everywhere.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func softplus(threshold: Scalar? = 20, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let x = storage
    let limit = threshold ?? .infinity
    let y = x.map(grain: CPU.transcendentalGrain) { x in
      x > limit ? x : Swift.max(x, 0) + Scalar.log(onePlus: Scalar.exp(-Swift.abs(x)))
    }
    return Tensor(y, op: "softplus", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        // σ(x) below the threshold, 1 above it.
        let below = Tensor(x.map { $0 > limit ? 0 : 1 })
        return graph.record { g, x, _ in [g * (x[0].sigmoid() * below + (1 - below))] }
      }
      return [g.zipSameShape(x, grain: CPU.transcendentalGrain) { g, x in x > limit ? g : g * stableSigmoid(x) }]
    }
  }
}

extension Tensor {
  /// GELU′(x) = Φ(x) + x·φ(x), the derivative of the exact GELU, as an op of its own for gradients of
  /// gradients: its derivative, φ(x)·(2 − x²) with φ(x) = e^(−x²/2)/√(2π), is written with tensor
  /// ops, so it can be differentiated to any order.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func exactGELUDerivative() -> Tensor {
    let x = storage
    let inverseSqrt2 = Scalar(0.7071067811865476)  // 1/√2
    let inverseSqrt2Pi = Scalar(0.3989422804014327)  // 1/√(2π)
    let y = x.map { x in 0.5 * (1 + Scalar.erf(x * inverseSqrt2)) + x * inverseSqrt2Pi * Scalar.exp(-0.5 * x * x) }
    return Tensor(y, op: "geluDerivative", parents: [self]) { g, graph in
      if let graph {
        return graph.record { g, x, _ in
          let x = x[0]
          return [g * ((x * x * -0.5).exp() * inverseSqrt2Pi * (2 - x * x))]
        }
      }
      return [g.zipSameShape(x) { g, x in g * inverseSqrt2Pi * Scalar.exp(-0.5 * x * x) * (2 - x * x) }]
    }
  }
}

/// Which formula ``Tensor/gelu(approximate:file:line:)`` uses.
public enum GELUApproximation: Sendable {
  /// The exact x·Φ(x), through erf.
  case none
  /// The tanh approximation of GPT-2 and BERT.
  case tanh
}
