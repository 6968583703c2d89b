import Awesomegrad

/// A stack of fully connected layers on `Tensor`, written out with the core ops only, so that the
/// benchmarks do not depend on the `NN` and `Optim` modules while those are being written.
///
/// Layer i computes `h ← activation(h · Wᵢᵀ + bᵢ)` with `Wᵢ` of shape `[out, in]` and `bᵢ` of shape
/// `[out]`; the last layer has no activation.
final class DenseNetwork<Scalar: TensorScalar> {
  let weights: [Tensor<Scalar>]
  let biases: [Tensor<Scalar>]
  let activation: (Tensor<Scalar>) -> Tensor<Scalar>

  /// Weights uniform in ±`scale(in)`, biases zero.
  init(
    sizes: [Int], activation: @escaping (Tensor<Scalar>) -> Tensor<Scalar>,
    initScale: (Int) -> Scalar, using rng: inout SeededGenerator
  ) {
    var weights: [Tensor<Scalar>] = []
    var biases: [Tensor<Scalar>] = []
    for (fanIn, fanOut) in zip(sizes, sizes.dropFirst()) {
      let bound = initScale(fanIn)
      weights.append(
        Tensor<Scalar>.randomUniform([fanOut, fanIn], low: -bound, high: bound, requiresGrad: true, using: &rng))
      biases.append(Tensor<Scalar>.zeros([fanOut], requiresGrad: true))
    }
    self.weights = weights
    self.biases = biases
    self.activation = activation
  }

  /// `[batch, sizes.first] → [batch, sizes.last]`.
  func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var h = x
    for i in weights.indices {
      h = h.matmul(weights[i], transposeB: true) + biases[i]
      if i < weights.count - 1 { h = activation(h) }
    }
    return h
  }

  var parameters: [Tensor<Scalar>] { weights + biases }

  /// p ← p − lr·∂L/∂p in place, then clears the gradients.
  func sgdStep(learningRate lr: Scalar) {
    for p in parameters {
      guard let g = p.grad else { continue }
      g.updateValues { grad in
        p.updateValues { value in
          for i in 0..<value.count { value[i] -= lr * grad[i] }
        }
      }
      p.zeroGrad()
    }
  }
}

/// Adam (Kingma & Ba) written inline for the benchmarks, with PyTorch's defaults:
/// m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  p ← p − lr·m̂/(√v̂ + ε), with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
final class InlineAdam<Scalar: TensorScalar> {
  let parameters: [Tensor<Scalar>]
  let learningRate: Scalar
  let beta1: Scalar = 0.9
  let beta2: Scalar = 0.999
  let epsilon: Scalar = 1e-8
  private var firstMoments: [[Scalar]]
  private var secondMoments: [[Scalar]]
  private var t = 0

  init(_ parameters: [Tensor<Scalar>], learningRate: Scalar) {
    self.parameters = parameters
    self.learningRate = learningRate
    firstMoments = parameters.map { [Scalar](repeating: 0, count: $0.count) }
    secondMoments = firstMoments
  }

  /// One update from the accumulated gradients, then clears them.
  func step() {
    t += 1
    let correction1 = 1 - Scalar.pow(beta1, Scalar(t))
    let correction2 = 1 - Scalar.pow(beta2, Scalar(t))
    let stepSize = learningRate / correction1
    let inverseCorrection2 = 1 / correction2
    let (b1, b2, eps) = (beta1, beta2, epsilon)
    for (k, p) in parameters.enumerated() {
      guard let g = p.grad else { continue }
      firstMoments[k].withUnsafeMutableBufferPointer { m in
        secondMoments[k].withUnsafeMutableBufferPointer { v in
          g.updateValues { grad in
            p.updateValues { value in
              let (mp, vp, gp, pp) = (m.baseAddress!, v.baseAddress!, grad.baseAddress!, value.baseAddress!)
              for i in 0..<value.count {
                let gi = gp[i]
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                pp[i] -= stepSize * mi / ((vi * inverseCorrection2).squareRoot() + eps)
              }
            }
          }
        }
      }
      p.zeroGrad()
    }
  }
}
