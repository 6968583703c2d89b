/// GELU's tanh form as one primitive: the composite of ``Tensor/gelu(approximate:)`` builds ten
/// nodes and temporaries per call; this is one pass forward and one backward, pure arithmetic, so
/// both loops vectorise in Float (whose tanh is a rational function).
extension Tensor {
  /// ½·x·(1 + tanh u), u = √(2/π)·(x + 0.044715·x³): PyTorch's `gelu(x, approximate='tanh')`.
  ///
  ///     d/dx = ½·(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²),  t = tanh u
  ///
  /// The pullback recomputes t from the saved input instead of keeping another tensor alive.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func tanhGELU(file: StaticString, line: UInt) -> Tensor {
    let x = storage
    let c = Scalar(0.7978845608028654)  // √(2/π)
    let a = Scalar(0.044715)
    let y = x.map(grain: CPU.transcendentalGrain) { x in 0.5 * x * (1 + Scalar.vectorizableTanh(c * (x + a * x * x * x))) }
    return Tensor(y, op: "gelu", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        return graph.recordThrough { x in 0.5 * x[0] * (1 + ((x[0] + a * x[0] * x[0] * x[0]) * c).tanh()) }
      }
      return [
        g.zipSameShape(x, grain: CPU.transcendentalGrain) { g, x in
          let x2 = x * x
          let t = Scalar.vectorizableTanh(c * (x + a * x2 * x))
          return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * a * x2))
        }
      ]
    }
  }
}
