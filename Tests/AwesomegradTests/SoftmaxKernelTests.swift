import Foundation
import Testing

@testable import Awesomegrad

/// The fused softmax primitives in Float, whose exponentials are the vectorised non-positive exp of
/// the C kernels, against the same formulas computed in Double with libm (the independent reference).
@Suite struct SoftmaxKernelTests {
  /// Rows of logits spread over [−30, 30], with one row of equal values and one with a −∞.
  static let rows = 7, columns = 33
  static let logits: [Float] = (0..<(rows * columns)).map { i in
    let (r, c) = (i / columns, i % columns)
    if r == 0 { return 1.5 }
    if r == 1 && c == 4 { return -.infinity }
    return Float(30 * sin(Double(i) * 0.731))
  }

  /// Double softmax of row r: e^(x − m) / Σ e^(x − m).
  static func reference(row r: Int) -> [Double] {
    let x = logits[(r * columns)..<((r + 1) * columns)].map(Double.init)
    let m = x.max()!
    let e = x.map { Foundation.exp($0 - m) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
  }

  /// softmax(x) and log softmax(x) in Float agree with Double libm to a few ulp of 1.
  @Test func softmaxAndLogSoftmaxMatchDouble() {
    let x = Tensor<Float>(Self.logits, shape: [Self.rows, Self.columns])
    let p = x.softmax().scalars, logp = x.logSoftmax().scalars
    for r in 0..<Self.rows {
      let expected = Self.reference(row: r)
      for c in 0..<Self.columns {
        let i = r * Self.columns + c
        #expect(abs(Double(p[i]) - expected[c]) < 1e-6, "softmax row \(r) column \(c)")
        if expected[c] > 0 {
          #expect(abs(Double(logp[i]) - Foundation.log(expected[c])) < 2e-5, "log-softmax row \(r) column \(c)")
        } else {
          #expect(logp[i] == -.infinity)
        }
      }
    }
  }

  /// The fused pullbacks: ∂softmax = y ⊙ (g − Σ g·y) and ∂log-softmax = g − softmax·Σ g, in Double.
  @Test func pullbacksMatchDouble() {
    let g: [Float] = (0..<(Self.rows * Self.columns)).map { Float(cos(Double($0) * 0.37)) }
    for log in [false, true] {
      let x = Tensor<Float>(Self.logits, shape: [Self.rows, Self.columns]).requireGrad()
      let y = log ? x.logSoftmax() : x.softmax()
      y.backward(gradient: Tensor(g, shape: y.shape))
      let gx = x.grad!.scalars
      for r in 0..<Self.rows {
        let p = Self.reference(row: r)
        let gr = g[(r * Self.columns)..<((r + 1) * Self.columns)].map(Double.init)
        let dot = zip(gr, p).reduce(0) { $0 + $1.0 * $1.1 }, total = gr.reduce(0, +)
        for c in 0..<Self.columns {
          let expected = log ? gr[c] - p[c] * total : p[c] * (gr[c] - dot)
          #expect(abs(Double(gx[r * Self.columns + c]) - expected) < 1e-5, "\(log ? "log-" : "")softmax row \(r)")
        }
      }
    }
  }

  /// Softmax along an inner axis moves the axis last and back: the columns of a [33, 7] matrix sum
  /// to 1 and equal the rows' softmax of its transpose.
  @Test func softmaxAlongAnotherAxis() {
    let x = Tensor<Float>(Self.logits, shape: [Self.rows, Self.columns]).transposed()
    let p = x.softmax(axis: 0).transposed().scalars
    let direct = Tensor<Float>(Self.logits, shape: [Self.rows, Self.columns]).softmax().scalars
    #expect(p == direct)
  }
}
