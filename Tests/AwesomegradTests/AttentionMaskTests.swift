import Testing

@testable import Awesomegrad

/// Attention applies its mask before anything looks at the scores: a NaN score in a masked-out
/// column never reaches the row (issue 19), as in the masked_fill(−∞) formulation (nanoGPT's
/// manual attention) and PyTorch's CPU kernel with `is_causal`.
@Suite struct AttentionMaskTests {
  /// One query per row, d = 1, scale 1, so score[l, s] = q[l]·k[s]:
  ///
  ///     q = [1, 2], k = [NaN, 1], v = [3, 5]
  ///     scores = [[NaN, 1], [NaN, 2]]
  ///     mask   = [[no, no], [no, yes]]
  ///
  /// Row 0 allows nothing: it attends to nothing, so its output is 0 (the documented rule for a
  /// fully masked row), whatever its masked scores hold. Row 1 allows only key 1: weight 1 there,
  /// output v[1] = 5. Before the fix, row 0's NaN check read the masked NaN and made the row NaN.
  /// ∂v = Pᵀ·1 = [0, 1]; ∂k[0] = Σ_l ∂A[l, 0]·q[l] = 0, since no row gives key 0 weight.
  @Test func aMaskedNaNScoreDoesNotPoisonItsRow() {
    let q = Tensor<Double>([1, 2], shape: [2, 1], requiresGrad: true)
    let k = Tensor<Double>([.nan, 1], shape: [2, 1], requiresGrad: true)
    let v = Tensor<Double>([3, 5], shape: [2, 1], requiresGrad: true)
    let mask = MaskTensor([false, false, false, true], shape: [2, 2])
    let y = scaledDotProductAttention(query: q, key: k, value: v, mask: mask, scale: 1)
    #expect(y.scalars == [0, 5])
    y.sum().backward()
    #expect(v.grad!.scalars == [0, 1])
    #expect(k.grad!.scalars[0] == 0)
  }

  /// Every allowed score −∞ (here from the data: k[1] = −∞) and a NaN in a masked column: the row
  /// attends to nothing (0), as PyTorch's masked_fill(−∞) then softmax over the allowed keys has no
  /// finite score to weigh. An allowed NaN still makes the row NaN.
  @Test func onlyAllowedScoresDecideWhetherARowIsNaN() {
    let q = Tensor<Double>([1], shape: [1, 1])
    let v = Tensor<Double>([3, 5], shape: [2, 1])
    let masked = scaledDotProductAttention(
      query: q, key: Tensor([.nan, -.infinity], shape: [2, 1]), value: v,
      mask: MaskTensor([false, true], shape: [1, 2]), scale: 1)
    #expect(masked.scalars == [0])
    let allowed = scaledDotProductAttention(
      query: q, key: Tensor([.nan, -.infinity], shape: [2, 1]), value: v,
      mask: MaskTensor([true, true], shape: [1, 2]), scale: 1)
    #expect(allowed.scalars[0].isNaN)
  }

  /// multiHeadAttention shares the kernel: the same rule through a fused q|k|v (B = 1, T = 2, one
  /// head of width 1, so qkv rows are [q, k, v]).
  @Test func multiHeadAttentionMasksFirstToo() {
    let qkv = Tensor<Double>([1, .nan, 3, 2, 1, 5], shape: [1, 2, 3])
    let mask = MaskTensor([false, false, false, true], shape: [2, 2])
    let y = multiHeadAttention(qkv: qkv, heads: 1, mask: mask)
    #expect(y.scalars == [0, 5])
  }
}
