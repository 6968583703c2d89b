/// Elementwise functions. Primitives keep the value they need for the derivative (usually the
/// output y) and compute g·f′ in their pullback; composites are built from primitives.
extension Tensor {
  /// eˣ.  d/dx = eˣ = y.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func exp() -> Tensor {
    let y = storage.map(Scalar.exp)
    return Tensor(y, parents: [self]) { g in [g.zipSameShape(y, *)] }
  }

  /// ln x.  d/dx = 1/x.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func log() -> Tensor {
    let x = storage
    return Tensor(x.map(Scalar.log), parents: [self]) { g in [g.zipSameShape(x, /)] }
  }

  /// tanh x.  d/dx = 1 − y².
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func tanh() -> Tensor {
    let y = storage.map(Scalar.tanh)
    return Tensor(y, parents: [self]) { g in [g.zipSameShape(y) { g, y in g * (1 - y * y) }] }
  }

  /// max(x, 0).  d/dx = 1 where x > 0, else 0.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func relu() -> Tensor {
    let y = storage.map { $0 > 0 ? $0 : 0 }
    return Tensor(y, parents: [self]) { g in [g.zipSameShape(y) { g, y in y > 0 ? g : 0 }] }
  }

  /// 1 / (1 + e⁻ˣ), composed: 1 / (1 + exp(−x)).
  public func sigmoid() -> Tensor { 1 / (1 + (-self).exp()) }
}
