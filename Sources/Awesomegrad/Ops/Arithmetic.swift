/// `+ − × ÷` with numpy broadcasting, between tensors or a tensor and a scalar, and negation.
///
/// Each binary pullback computes the gradient at the broadcast shape and hands it to `unbroadcast`.
/// Operators cannot take the caller's file and line; a shape mismatch names the op and both shapes,
/// and the crash backtrace shows the line.
extension Tensor {
  /// a + b.  ∂/∂a = 1, ∂/∂b = 1.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    let (ls, rs) = (lhs.shape, rhs.shape)
    let (needA, needB) = (lhs.requiresGrad, rhs.requiresGrad)
    return Tensor(Storage.broadcasting(lhs.storage, rhs.storage, op: "add", ScalarFunction.Add()), op: "add", parents: [lhs, rhs]) { g, graph in
      if let graph {
        return graph.record { g, _, _ in
          [graph.wants(0) ? g.summed(to: ls) : nil, graph.wants(1) ? g.summed(to: rs) : nil]
        }
      }
      return [needA ? unbroadcast(g, to: ls) : nil, needB ? unbroadcast(g, to: rs) : nil]
    }
  }

  /// a − b.  ∂/∂a = 1, ∂/∂b = −1.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    let (ls, rs) = (lhs.shape, rhs.shape)
    let (needA, needB) = (lhs.requiresGrad, rhs.requiresGrad)
    return Tensor(Storage.broadcasting(lhs.storage, rhs.storage, op: "sub", ScalarFunction.Subtract()), op: "sub", parents: [lhs, rhs]) { g, graph in
      if let graph {
        return graph.record { g, _, _ in
          [graph.wants(0) ? g.summed(to: ls) : nil, graph.wants(1) ? (-g).summed(to: rs) : nil]
        }
      }
      return [needA ? unbroadcast(g, to: ls) : nil, needB ? unbroadcast(g.map(ScalarFunction.Negate()), to: rs) : nil]
    }
  }

  /// a · b (elementwise).  ∂/∂a = b, ∂/∂b = a.
  ///
  /// Only the gradients an input needs are computed: `x * 0.5` (a constant) and Dropout's `x * mask`
  /// compute one product in their pullback, not two plus a reduction over the constant's broadcast.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    let (a, b) = (lhs.storage, rhs.storage)
    let (needA, needB) = (lhs.requiresGrad, rhs.requiresGrad)
    return Tensor(Storage.broadcasting(a, b, op: "mul", ScalarFunction.Multiply()), op: "mul", parents: [lhs, rhs]) { g, graph in
      if let graph {
        return graph.record { g, x, _ in
          [
            graph.wants(0) ? (g * x[1]).summed(to: a.shape) : nil,
            graph.wants(1) ? (g * x[0]).summed(to: b.shape) : nil,
          ]
        }
      }
      return [
        needA ? unbroadcast(Storage.broadcasting(g, b, op: "mul", ScalarFunction.Multiply()), to: a.shape) : nil,
        needB ? unbroadcast(Storage.broadcasting(g, a, op: "mul", ScalarFunction.Multiply()), to: b.shape) : nil,
      ]
    }
  }

  /// a / b.  ∂/∂a = 1/b, ∂/∂b = −a/b².
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    let (a, b) = (lhs.storage, rhs.storage)
    let (needA, needB) = (lhs.requiresGrad, rhs.requiresGrad)
    let y = Storage.broadcasting(a, b, op: "div", ScalarFunction.Divide())
    return Tensor(y, op: "div", parents: [lhs, rhs]) { g, graph in
      if let graph {
        // ∂/∂a = g/b, ∂/∂b = −g·a/b².
        return graph.record { g, x, _ in
          [
            graph.wants(0) ? (g / x[1]).summed(to: a.shape) : nil,
            graph.wants(1) ? (-(g * x[0]) / (x[1] * x[1])).summed(to: b.shape) : nil,
          ]
        }
      }
      // ∂/∂b = −(a/b)/b = −y/b, computed at the broadcast shape.
      let gOverB = Storage.broadcasting(g, b, op: "div", ScalarFunction.Divide())
      let gb = needB ? Storage.broadcasting(gOverB, y, op: "div") { gq, yv in -gq * yv } : nil
      return [needA ? unbroadcast(gOverB, to: a.shape) : nil, gb.map { unbroadcast($0, to: b.shape) }]
    }
  }

  /// −a.  ∂/∂a = −1.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static prefix func - (x: Tensor) -> Tensor {
    Tensor(x.storage.map(ScalarFunction.Negate()), op: "neg", parents: [x]) { g, graph in
      if let graph { return graph.record { g, _, _ in [-g] } }
      return [g.map(ScalarFunction.Negate())]
    }
  }

  // Tensor–scalar forms: the scalar becomes a rank-0 constant and broadcasts.
  /// a + c for a constant c.
  public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(scalar: rhs) }
  /// c + a for a constant c.
  public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) + rhs }
  /// a − c for a constant c.
  public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(scalar: rhs) }
  /// c − a for a constant c.
  public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) - rhs }
  /// a · c for a constant c.
  public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(scalar: rhs) }
  /// c · a for a constant c.
  public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) * rhs }
  /// a / c for a constant c.
  public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(scalar: rhs) }
  /// c / a for a constant c.
  public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) / rhs }
}
