import AwesomegradKernels
import Foundation

/// The row loops of attention over a tile of scores (`rows` rows of `columns` values, `ld` apart).
///
/// Float runs the C kernels of `awesomegrad_attention.h` in this CPU's instruction set
/// (``VectorKernels``): exponentials by ``Swift/Float/nonPositiveExp(_:)`` and sums in 16 fixed lanes,
/// so they vectorise and every build gives the same bits. Double runs the same formulas here with
/// libm's `exp`, in column order. In specialised code the type test folds away.
enum AttentionRows {
  /// One step of the online softmax (masked scores already −∞), per row r:
  ///
  ///     m' = max(rowMax[r], maxₖ s[k]),  s[k] ← e^(s[k] − m'),
  ///     rescale[r] = e^(rowMax[r] − m'),  rowSum[r] ← rowSum[r]·rescale[r] + Σₖ s[k],  rowMax[r] ← m'
  ///
  /// A row whose m' is −∞ (nothing allowed so far) becomes 0 with rescale 1, and a NaN among its
  /// scores makes rowSum NaN: the row's output ends NaN, as the unfused softmax's does.
  @inline(__always)
  static func softmaxUpdate<Scalar: TensorScalar>(
    _ scores: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, ld: Int,
    rowMax: UnsafeMutablePointer<Scalar>, rowSum: UnsafeMutablePointer<Scalar>,
    rescale: UnsafeMutablePointer<Scalar>
  ) {
    if Scalar.self == Float.self {
      awesomegrad_attention_softmax_update_f32(
        VectorKernels.instructionSet, floats(scores), rows, columns, ld, floats(rowMax), floats(rowSum),
        floats(rescale))
      return
    }
    for r in 0..<rows {
      let x = scores + r * ld
      var tileMax = -Scalar.infinity
      for c in 0..<columns where x[c] > tileMax { tileMax = x[c] }
      let old = rowMax[r]
      let m = tileMax > old ? tileMax : old
      if m == -.infinity {
        var anyNaN = false
        for c in 0..<columns where x[c].isNaN { anyNaN = true }
        if anyNaN { rowSum[r] = .nan }
        x.update(repeating: 0, count: columns)
        rescale[r] = 1
        continue
      }
      var total: Scalar = 0
      for c in 0..<columns {
        let e = Scalar.exp(x[c] - m)
        x[c] = e
        total += e
      }
      let alpha = Scalar.exp(old - m)
      rowSum[r] = rowSum[r] * alpha + total
      rowMax[r] = m
      rescale[r] = alpha
    }
  }

  /// s[k] ← e^(s[k] − logSumExp[r]): a tile's probabilities recomputed from the row log-sum-exp.
  @inline(__always)
  static func probabilities<Scalar: TensorScalar>(
    _ scores: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, ld: Int, logSumExp: UnsafePointer<Scalar>
  ) {
    if Scalar.self == Float.self {
      awesomegrad_attention_probabilities_f32(
        VectorKernels.instructionSet, floats(scores), rows, columns, ld, floats(logSumExp))
      return
    }
    for r in 0..<rows {
      let x = scores + r * ld
      let shift = logSumExp[r]
      for c in 0..<columns { x[c] = Scalar.exp(x[c] - shift) }
    }
  }

  /// dp[k] ← p[k]·(dp[k] − rowDot[r]): ∂S = P ⊙ (∂P − D).
  @inline(__always)
  static func scoreGradient<Scalar: TensorScalar>(
    _ p: UnsafePointer<Scalar>, _ dp: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, ld: Int,
    rowDot: UnsafePointer<Scalar>
  ) {
    if Scalar.self == Float.self {
      awesomegrad_attention_score_gradient_f32(
        VectorKernels.instructionSet, floats(p), floats(dp), rows, columns, ld, floats(rowDot))
      return
    }
    for r in 0..<rows {
      let (pr, dr, d) = (p + r * ld, dp + r * ld, rowDot[r])
      for c in 0..<columns { dr[c] = pr[c] * (dr[c] - d) }
    }
  }

  /// The softmax of each row in place over its first `limit(r)` columns (0 after them): m = max,
  /// e = e^(s − m), s ← e·(1/Σe), where limit(r) = min(max(r + 1 + causalShift, 0), columns) when
  /// `isCausal` and `columns` otherwise. Masked scores are already −∞. A row whose maximum is −∞
  /// becomes 0, or NaN when a NaN is among its first limit(r) scores.
  @inline(__always)
  static func softmax<Scalar: TensorScalar>(
    _ scores: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, ld: Int, isCausal: Bool, causalShift: Int
  ) {
    if Scalar.self == Float.self {
      awesomegrad_attention_softmax_rows_f32(
        VectorKernels.instructionSet, floats(scores), rows, columns, ld, isCausal ? 1 : 0, causalShift)
      return
    }
    for r in 0..<rows {
      let x = scores + r * ld
      let limit = isCausal ? Swift.min(Swift.max(r + 1 + causalShift, 0), columns) : columns
      var m = -Scalar.infinity
      for c in 0..<limit where x[c] > m { m = x[c] }
      if m == -.infinity {
        var anyNaN = false
        for c in 0..<limit where x[c].isNaN { anyNaN = true }
        x.update(repeating: anyNaN ? .nan : 0, count: columns)
        continue
      }
      var total: Scalar = 0
      for c in 0..<limit {
        let e = Scalar.exp(x[c] - m)
        x[c] = e
        total += e
      }
      let inverse = 1 / total
      for c in 0..<limit { x[c] *= inverse }
      if limit < columns { (x + limit).update(repeating: 0, count: columns - limit) }
    }
  }

  /// Sets the scores of a tile to −∞ where query row `rowStart + r` may not attend to key column
  /// `columnStart + k` by the mask and, when `includingCausal`, by the causal rule, so that the
  /// softmax gives them weight 0.
  @inline(__always)
  static func mask<Scalar: TensorScalar>(
    _ scores: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int, ld: Int, rowStart: Int, columnStart: Int,
    matrix n: Int, geometry: AttentionGeometry<Scalar>, includingCausal: Bool
  ) {
    if includingCausal && geometry.isCausal {
      for r in 0..<rows {
        let allowed = Swift.max(geometry.causalLimit(row: rowStart + r) - columnStart, 0)
        if allowed < columns { (scores + r * ld + allowed).update(repeating: -.infinity, count: columns - allowed) }
      }
    }
    guard let mask = geometry.mask else { return }
    let (l, s) = (geometry.queries, geometry.keys)
    mask.flags.withUnsafeBufferPointer { flags in
      let base = flags.baseAddress! + (mask.isShared ? 0 : n * l * s) + rowStart * s + columnStart
      for r in 0..<rows {
        let (x, allowed) = (scores + r * ld, base + r * s)
        for c in 0..<columns where !allowed[c] { x[c] = -.infinity }
      }
    }
  }
}

/// The same pointer as Floats (only called when Scalar is Float).
@inline(__always)
private func floats<Scalar>(_ p: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

@inline(__always)
private func floats<Scalar>(_ p: UnsafePointer<Scalar>) -> UnsafePointer<Float> {
  UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}
