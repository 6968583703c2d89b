import AwesomegradKernels

/// The optimizers' updates: elementwise over a parameter, its gradient and its state, so a large
/// parameter is split over the pool in pieces (every element's update is the same whatever the split).
extension CPU {
  /// The elements below which an optimizer update stays on the calling thread (Adam costs a square
  /// root and a division per element).
  static let optimizerGrain = 8_192

  /// One Adam step over `count` scalars, in pieces on the pool (see ``adamUpdate(values:grad:m:v:count:stepSize:correction2Root:beta1:beta2:eps:l2:decay:)``).
  @inline(__always)
  static func adam<Scalar: TensorScalar>(
    values p: UnsafeMutablePointer<Scalar>, grad g: UnsafePointer<Scalar>, m: UnsafeMutablePointer<Scalar>,
    v: UnsafeMutablePointer<Scalar>, count: Int, stepSize: Scalar, correction2Root: Scalar,
    beta1: Scalar, beta2: Scalar, eps: Scalar, l2: Scalar, decay: Scalar
  ) {
    parallelFor(0..<count, grain: optimizerGrain) { piece in
      let i = piece.lowerBound
      adamUpdate(
        values: p + i, grad: g + i, m: m + i, v: v + i, count: piece.count, stepSize: stepSize,
        correction2Root: correction2Root, beta1: beta1, beta2: beta2, eps: eps, l2: l2, decay: decay)
    }
  }

  /// One SGD step over `count` scalars, in pieces on the pool (see ``sgdUpdate(values:grad:momentumBuffer:count:isFirstStep:learningRate:momentum:dampening:nesterov:weightDecay:)``).
  @inline(__always)
  static func sgd<Scalar: TensorScalar>(
    values p: UnsafeMutablePointer<Scalar>, grad g: UnsafePointer<Scalar>,
    momentumBuffer b: UnsafeMutablePointer<Scalar>?, count: Int, isFirstStep: Bool,
    learningRate lr: Scalar, momentum mu: Scalar, dampening: Scalar, nesterov: Bool, weightDecay lambda: Scalar
  ) {
    parallelFor(0..<count, grain: optimizerGrain) { piece in
      let i = piece.lowerBound
      sgdUpdate(
        values: p + i, grad: g + i, momentumBuffer: b == nil ? nil : b.unsafelyUnwrapped + i, count: piece.count, isFirstStep: isFirstStep,
        learningRate: lr, momentum: mu, dampening: dampening, nesterov: nesterov, weightDecay: lambda)
    }
  }
}

/// One Adam step over `count` scalars (see ``Adam``). `l2` is coupled weight decay (Adam), `decay`
/// the factor 1 − lr·λ of decoupled weight decay (AdamW); they are 0 and 1 when unused.
///
/// Float runs in C (`awesomegrad_adam_f32`), compiled for this CPU's vector width (``VectorKernels``):
/// in Swift, built for the baseline SSE2, the update took a fifth of a Fashion-MNIST MLP step. The
/// Swift loop below is its definition and serves Double: `SIMD8` vectors with a scalar tail (a plain
/// loop would not vectorise, because `squareRoot()` keeps a libm call for C's errno and the four
/// pointers might alias).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func adamUpdate<Scalar: TensorScalar>(
  values p: UnsafeMutablePointer<Scalar>, grad g: UnsafePointer<Scalar>, m: UnsafeMutablePointer<Scalar>,
  v: UnsafeMutablePointer<Scalar>, count: Int, stepSize: Scalar, correction2Root: Scalar,
  beta1: Scalar, beta2: Scalar, eps: Scalar, l2: Scalar, decay: Scalar
) {
  if Scalar.self == Float.self {
    // The same operations in C, compiled for this CPU's vector width (VectorKernels).
    func float(_ x: Scalar) -> Float { unsafeBitCast(x, to: Float.self) }
    func floats(_ pointer: UnsafePointer<Scalar>) -> UnsafePointer<Float> {
      UnsafeRawPointer(pointer).assumingMemoryBound(to: Float.self)
    }
    func floats(_ pointer: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Float> {
      UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
    }
    awesomegrad_adam_f32(
      VectorKernels.instructionSet, floats(p), floats(g), floats(m), floats(v), count, float(stepSize),
      float(correction2Root), float(beta1), float(beta2), float(eps), float(l2), float(decay))
    return
  }
  typealias Vector = SIMD8<Scalar>
  let width = Vector.scalarCount
  @inline(__always) func load<T>(_ pointer: UnsafePointer<T>, _ i: Int) -> SIMD8<T> {
    UnsafeRawPointer(pointer + i).loadUnaligned(as: SIMD8<T>.self)
  }
  @inline(__always) func store<T>(_ vector: SIMD8<T>, _ pointer: UnsafeMutablePointer<T>, _ i: Int) {
    UnsafeMutableRawPointer(pointer + i).storeBytes(of: vector, as: SIMD8<T>.self)
  }
  let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
  var i = 0
  while i + width <= count {
    var pv = load(UnsafePointer(p), i)
    if decay != 1 { pv *= decay }
    var d = load(g, i)
    if l2 != 0 { d += l2 * pv }
    var mv = load(UnsafePointer(m), i)
    mv += oneMinusBeta1 * (d - mv)  // torch's lerp(m, g, 1 − β₁) for a weight below ½
    let vv = load(UnsafePointer(v), i) * beta2 + oneMinusBeta2 * d * d
    let denominator = vv.squareRoot() / correction2Root + eps
    pv -= stepSize * (mv / denominator)
    store(mv, m, i)
    store(vv, v, i)
    store(pv, p, i)
    i += width
  }
  while i < count {
    if decay != 1 { p[i] *= decay }
    var d = g[i]
    if l2 != 0 { d += l2 * p[i] }
    m[i] += oneMinusBeta1 * (d - m[i])
    v[i] = v[i] * beta2 + oneMinusBeta2 * d * d
    let denominator = v[i].squareRoot() / correction2Root + eps
    p[i] -= stepSize * (m[i] / denominator)
    i += 1
  }
}

/// One SGD step over `count` scalars (see ``SGD``). `momentumBuffer` is nil without momentum and
/// is written, not read, on the first step.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func sgdUpdate<Scalar: TensorScalar>(
  values p: UnsafeMutablePointer<Scalar>, grad g: UnsafePointer<Scalar>,
  momentumBuffer b: UnsafeMutablePointer<Scalar>?, count: Int, isFirstStep: Bool,
  learningRate lr: Scalar, momentum mu: Scalar, dampening: Scalar, nesterov: Bool, weightDecay lambda: Scalar
) {
  guard let b else {
    for i in 0..<count { p[i] -= lr * (g[i] + lambda * p[i]) }
    return
  }
  let gradScale = 1 - dampening
  for i in 0..<count {
    var d = g[i]
    if lambda != 0 { d += lambda * p[i] }
    b[i] = isFirstStep ? d : mu * b[i] + gradScale * d
    d = nesterov ? d + mu * b[i] : b[i]
    p[i] -= lr * d
  }
}
