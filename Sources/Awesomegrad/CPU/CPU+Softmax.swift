import AwesomegradKernels
import Foundation

/// Softmax, log-softmax and cross-entropy over the rows of a `[rows, columns]` matrix, one row per
/// task on the thread pool (a row's result never depends on the split).
///
/// Each row is shifted by its maximum m, so every exponent is ≤ 0 and cannot overflow. In Float the
/// exponentials are the vectorised `Float.nonPositiveExp` in C (``VectorKernels``: a few ulp from
/// libm's `expf`, the same bits on every instruction set); Double calls libm.
extension CPU {
  /// y[j] = e^(x[j] − shift) for j < count, where every x[j] − shift is ≤ 0 (or NaN); `y` may be `x`.
  @inline(__always)
  static func expShifted<T: TensorScalar>(
    _ x: UnsafePointer<T>, shift: T, into y: UnsafeMutablePointer<T>, count: Int
  ) {
    if T.self == Float.self {
      awesomegrad_exp_shifted_f32(
        VectorKernels.instructionSet, UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
        unsafeBitCast(shift, to: Float.self), UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self),
        count)
    } else {
      for j in 0..<count { y[j] = T.exp(x[j] - shift) }
    }
  }

  /// The shift of a row whose maximum (NaN if any value is NaN) is `m`: m itself when finite, else 0
  /// (a row of −∞ stays −∞ − 0; a NaN row stays NaN).
  @inline(__always)
  static func softmaxShift<T: TensorScalar>(_ m: T) -> T { m.isFinite ? m : 0 }

  /// e^(x − shift) for one row, with libm where the vectorised form does not apply (a row whose
  /// maximum is +∞, where x − 0 may be positive).
  @inline(__always)
  static func rowExp<T: TensorScalar>(
    _ x: UnsafePointer<T>, maximum m: T, into y: UnsafeMutablePointer<T>, count: Int
  ) {
    if m == .infinity {
      for j in 0..<count { y[j] = T.exp(x[j]) }
    } else {
      expShifted(x, shift: softmaxShift(m), into: y, count: count)
    }
  }

  /// softmax(x) of each row: y = e^(x − m) / Σ e^(x − m).
  @inline(__always)
  static func softmaxRows<T: TensorScalar>(
    _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, rows: Int, columns: Int
  ) {
    parallelFor(0..<rows, grain: Swift.max(1, transcendentalGrain / Swift.max(columns, 1))) { piece in
      for r in piece {
        let xr = x + r * columns, yr = y + r * columns
        rowExp(xr, maximum: maximumOfRunPropagatingNaN(xr, count: columns), into: yr, count: columns)
        let inverse = 1 / sumOfRun(yr, count: columns)
        for j in 0..<columns { yr[j] *= inverse }
      }
    }
  }

  /// ∂x of softmax for each row: gx = y ⊙ (g − Σⱼ gⱼyⱼ).
  @inline(__always)
  static func softmaxBackwardRows<T: TensorScalar>(
    _ g: UnsafePointer<T>, _ y: UnsafePointer<T>, into gx: UnsafeMutablePointer<T>, rows: Int, columns: Int
  ) {
    parallelFor(0..<rows, grain: Swift.max(1, elementwiseGrain / Swift.max(columns, 1))) { piece in
      for r in piece {
        let gr = g + r * columns, yr = y + r * columns, dr = gx + r * columns
        let dot = dotOfRuns(gr, yr, count: columns)
        for j in 0..<columns { dr[j] = yr[j] * (gr[j] - dot) }
      }
    }
  }

  /// log softmax(x) of each row: y = (x − m) − log Σ e^(x − m).
  @inline(__always)
  static func logSoftmaxRows<T: TensorScalar>(
    _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, rows: Int, columns: Int
  ) {
    parallelFor(0..<rows, grain: Swift.max(1, transcendentalGrain / Swift.max(columns, 1))) { piece in
      for r in piece {
        let xr = x + r * columns, yr = y + r * columns
        let m = maximumOfRunPropagatingNaN(xr, count: columns)
        rowExp(xr, maximum: m, into: yr, count: columns)
        let logTotal = T.log(sumOfRun(yr, count: columns)), shift = softmaxShift(m)
        for j in 0..<columns { yr[j] = (xr[j] - shift) - logTotal }
      }
    }
  }

  /// ∂x of log-softmax for each row: gx = g − e^y·Σⱼ gⱼ (y ≤ 0, so e^y is the non-positive exp).
  @inline(__always)
  static func logSoftmaxBackwardRows<T: TensorScalar>(
    _ g: UnsafePointer<T>, _ y: UnsafePointer<T>, into gx: UnsafeMutablePointer<T>, rows: Int, columns: Int
  ) {
    parallelFor(0..<rows, grain: Swift.max(1, transcendentalGrain / Swift.max(columns, 1))) { piece in
      for r in piece {
        let gr = g + r * columns, yr = y + r * columns, dr = gx + r * columns
        let total = sumOfRun(gr, count: columns)
        expShifted(yr, shift: 0, into: dr, count: columns)
        for j in 0..<columns { dr[j] = gr[j] - dr[j] * total }
      }
    }
  }

  /// Cross-entropy of each row of logits z against its label (rows whose label is `ignored` get
  /// loss 0): writes p = softmax(z) and ℓ = (1 − ε)·(lse − z_label) + ε·Σⱼ (lse − zⱼ) / C (the ε term
  /// only when ε > 0), with lse = m + log Σ e^(z − m), m = max z.
  ///
  /// m is not guarded, as PyTorch's: a row with a NaN or +∞, or of only −∞, makes z − m NaN and the
  /// row's loss and probabilities NaN. Every z − m is ≤ 0 or NaN, so Float takes the vectorised exp.
  @inline(__always)
  static func crossEntropyRows<T: TensorScalar>(
    _ z: UnsafePointer<T>, labels: UnsafeBufferPointer<Int>, ignored: Int?, smoothing epsilon: T,
    probabilities p: UnsafeMutablePointer<T>, losses: UnsafeMutablePointer<T>, rows: Int, columns: Int
  ) {
    parallelFor(0..<rows, grain: Swift.max(1, transcendentalGrain / Swift.max(columns, 1))) { piece in
      for i in piece {
        let row = z + i * columns, prow = p + i * columns
        if labels[i] == ignored {
          losses[i] = 0
          continue
        }
        var m = row[0]
        for j in 1..<columns where row[j] > m { m = row[j] }
        expShifted(row, shift: m, into: prow, count: columns)
        let total = sumOfRun(prow, count: columns)
        let inverse = 1 / total
        for j in 0..<columns { prow[j] *= inverse }
        let lse = m + T.log(total)
        var value = (1 - epsilon) * (lse - row[labels[i]])
        if epsilon > 0 {
          // Σⱼ (lse − zⱼ), the −log pⱼ PyTorch sums (so a −∞ logit makes +∞, as there).
          var smoothing: T = 0
          for j in 0..<columns { smoothing += lse - row[j] }
          value += epsilon * smoothing / T(columns)
        }
        losses[i] = value
      }
    }
  }

  /// ∂z of cross-entropy for each row: scale(i)·(p − ε/C) − scale(i)·(1 − ε) at the label, 0 for an
  /// ignored row.
  @inline(__always)
  static func crossEntropyBackwardRows<T: TensorScalar>(
    probabilities p: UnsafePointer<T>, labels: UnsafeBufferPointer<Int>, ignored: Int?, smoothing epsilon: T,
    scale: (Int) -> T, into gz: UnsafeMutablePointer<T>, rows: Int, columns: Int
  ) {
    let uniform = epsilon / T(columns)
    parallelFor(0..<rows, grain: Swift.max(1, elementwiseGrain / Swift.max(columns, 1))) { piece in
      for i in piece {
        let drow = gz + i * columns
        if labels[i] == ignored {
          drow.update(repeating: 0, count: columns)
          continue
        }
        let s = scale(i), prow = p + i * columns
        for j in 0..<columns { drow[j] = s * (prow[j] - uniform) }
        drow[labels[i]] -= s * (1 - epsilon)
      }
    }
  }
}
