import Awesomegrad
import AwesomegradModels

/// Causal attention alone, forward and backward, Float: q, k, v `[2, 4, 1024, 32]` (batch 2, 4 heads,
/// context 1024, head size 32: the char GPT's heads at context 1024), PyTorch's
/// `F.scaled_dot_product_attention(q, k, v, is_causal=True)` with a fixed upstream gradient:
///
///     scaledDotProductAttention(query: q, key: k, value: v, isCausal: true).backward(gradient: g)
final class Attention1024: Workload {
  static let name = "attention-1024"
  static let engine = "awesomegrad"
  static let dtype = "float32"
  static let defaultSteps = 20
  static let warmUpSteps = 3

  static let (batch, heads, context, depth) = (2, 4, 1024, 32)

  let q: Tensor<Float>
  let k: Tensor<Float>
  let v: Tensor<Float>
  let upstream: Tensor<Float>

  init() {
    var rng = SeededGenerator(seed: 0)
    let shape = [Self.batch, Self.heads, Self.context, Self.depth]
    q = Tensor<Float>.randomNormal(shape, using: &rng).requireGrad()
    k = Tensor<Float>.randomNormal(shape, using: &rng).requireGrad()
    v = Tensor<Float>.randomNormal(shape, using: &rng).requireGrad()
    upstream = Tensor<Float>.randomNormal(shape, using: &rng)
  }

  /// Thread CPU time per step, warm-up included (µs), as CNNFashion's.
  var cpuTimes: [Double] = []

  func step() {
    let start = threadCPUMicroseconds()
    defer { cpuTimes.append(threadCPUMicroseconds() - start) }
    for x in [q, k, v] { x.zeroGrad() }
    scaledDotProductAttention(query: q, key: k, value: v, isCausal: true).backward(gradient: upstream)
  }

  /// The products attention needs, on the causal half of the scores: q·kᵀ and p·v forward
  /// (2 × 2·T·T·d / 2 per head), twice that backward (∂V, ∂P, ∂Q, ∂K); a kernel's recomputation of the
  /// scores is not counted.
  var flopsPerStep: Double? {
    let (t, d) = (Double(Self.context), Double(Self.depth))
    return 3 * 2 * t * t * d * Double(Self.batch * Self.heads)
  }

  var extraFields: [(String, JSONValue)] {
    [("cpu_median_us", cpuTimes.isEmpty ? .null : .double(median(cpuTimes)))]
  }
}
