import Foundation
import Testing

@testable import Awesomegrad

@Suite struct ScheduleTests {
  /// micrograd: lr = 1.0 − 0.9·k/100 → 1.0, 0.991 at k = 1, 0.55 at 50, 0.1 at 100 and after.
  @Test func linearDecay() {
    let s = LinearDecay(initial: 1.0, final: 0.1, totalSteps: 100)
    #expect(s(0) == 1.0)
    #expect(abs(s(1) - 0.991) < 1e-15)
    #expect(abs(s(50) - 0.55) < 1e-15)
    #expect(abs(s(100) - 0.1) < 1e-15 && abs(s(150) - 0.1) < 1e-15)
  }

  /// 0.1·0.5^⌊k/10⌋: 0.1 for k < 10, 0.05 for 10 ≤ k < 20, 0.025 at 20.
  @Test func stepDecay() {
    let s = StepDecay(initial: 0.1, stepSize: 10, gamma: 0.5)
    #expect(s(0) == 0.1 && s(9) == 0.1 && s(10) == 0.05 && s(20) == 0.025)
  }

  /// Warm-up 0.25, 0.5, 0.75, 1 (peak 1, 4 steps); then cosine: halfway (k = 9 of 4…14) is
  /// ½(1 + 0.1)… with minimum 0.1: 0.1 + 0.45·(1 + cos(π/2)) = 0.55; the end is the minimum.
  @Test func cosineWithWarmup() {
    let s = CosineWithWarmup(peak: 1, minimum: 0.1, warmupSteps: 4, totalSteps: 14)
    #expect((0..<4).map { s($0) } == [0.25, 0.5, 0.75, 1])
    #expect(s(4) == 1)
    #expect(abs(s(9) - 0.55) < 1e-15)
    #expect(abs(s(14) - 0.1) < 1e-15 && abs(s(20) - 0.1) < 1e-15)
    #expect((4..<14).allSatisfy { s($0) >= s($0 + 1) })
  }

  /// Assigning a schedule's value changes the step an optimizer takes: p ← p − lr·g with g = 1.
  @Test func optimizerFollowsSchedule() {
    let p = Tensor<Double>([0], requiresGrad: true)
    let optimizer = SGD([p], learningRate: 0)
    let schedule = StepDecay(initial: 1, stepSize: 1, gamma: 0.5)
    for k in 0..<3 {
      optimizer.zeroGrad()
      p.sum().backward()
      optimizer.learningRate = schedule(k)
      optimizer.step()
    }
    #expect(p.scalars == [-(1 + 0.5 + 0.25)])
  }
}
