import Foundation

/// A fast, seedable random number generator: xoshiro256** seeded through SplitMix64.
///
/// Every random function in the library takes its generator as `using:`, so runs are reproducible
/// and there is no hidden global state. Two generators made with the same seed give the same stream.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
  private var s0, s1, s2, s3: UInt64

  /// A generator whose sequence is fixed by `seed`.
  public init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix()
    s1 = splitMix()
    s2 = splitMix()
    s3 = splitMix()
  }

  /// The generator's whole state, xoshiro256**'s four words, to save in a checkpoint and restore
  /// with ``init(state:)``: the restored generator continues the same stream.
  public var state: [UInt64] { [s0, s1, s2, s3] }

  /// The generator whose state is `state` (as read from ``state``), or nil unless it is four words
  /// that are not all zero (xoshiro's one state that never leaves zero).
  public init?(state: [UInt64]) {
    guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
    (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }
}

extension Tensor {
  /// Elements drawn independently from uniform(`low`, `high`).
  public static func randomUniform<G: RandomNumberGenerator>(
    _ shape: [Int], low: Scalar = 0, high: Scalar = 1, requiresGrad: Bool = false, using generator: inout G
  ) -> Tensor {
    let s = Storage<Scalar>(uninitializedShape: shape)
    for i in 0..<s.count { s.buffer.base[i] = Scalar.random(in: low..<high, using: &generator) }
    return Tensor(s, requiresGrad: requiresGrad)
  }

  /// Elements drawn independently from normal(`mean`, `standardDeviation`²), by the Box–Muller
  /// transform.
  public static func randomNormal<G: RandomNumberGenerator>(
    _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, requiresGrad: Bool = false,
    using generator: inout G
  ) -> Tensor {
    let s = Storage<Scalar>(uninitializedShape: shape)
    var i = 0
    while i < s.count {
      // u1 in (0, 1] so that log(u1) is finite.
      let u1 = 1 - Double.random(in: 0..<1, using: &generator)
      let u2 = Double.random(in: 0..<1, using: &generator)
      let r = (-2 * Double.log(u1)).squareRoot()
      s.buffer.base[i] = mean + standardDeviation * Scalar(r * cos(2 * .pi * u2))
      if i + 1 < s.count {
        s.buffer.base[i + 1] = mean + standardDeviation * Scalar(r * sin(2 * .pi * u2))
      }
      i += 2
    }
    return Tensor(s, requiresGrad: requiresGrad)
  }
}
