import Awesomegrad
import Testing

/// Anomaly mode stops at the first NaN or infinity, naming the op, its input shapes, the pass and
/// where the op was created. Each case runs in a child process (exit test) and reads its stderr.
@Suite struct AnomalyTests {
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  /// A function that takes file:line: matmul of [1, 2]·[2, 1] with 3e38·1 + 3e38·1 = 6e38 > Float's
  /// largest finite value (3.4e38), so the forward output is +inf.
  @Test func forwardAnomalyOfAFunctionNamesItsFileAndLine() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      withAnomalyDetection {
        let a = Tensor<Float>([3e38, 3e38], shape: [1, 2]), b = Tensor<Float>([1, 1], shape: [2, 1])
        _ = a.matmul(b)
      }
    }
    let message = Self.standardError(result)
    #expect(
      message.contains(
        "anomaly detection: the forward pass of matmul produced inf at element 0 of its output [1, 1] "
          + "(inputs [1, 2], [2, 1]); every input was finite"), "\(message)")
    #expect(message.contains("The op was created at AwesomegradTests/AnomalyTests.swift:"), "\(message)")
  }

  /// An operator cannot take file:line: 0 / 0 = NaN, and the creation site comes from the call stack.
  @Test func forwardAnomalyOfAnOperatorNamesTheCallerFromTheStack() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      withAnomalyDetection { _ = divideZeroByZero() }
    }
    let message = Self.standardError(result)
    #expect(
      message.contains(
        "the forward pass of div produced NaN at element 1 of its output [2] (inputs [2], [2]); "
          + "every input was finite"), "\(message)")
    #expect(
      message.contains(
        "The op was created at Tests/AwesomegradTests/AnomalyTests.swift:\(divideZeroByZero(run: false))"),
      "\(message)")
    #expect(message.contains("in divideZeroByZero(run:)"), "\(message)")
  }

  /// c = a·b = 1e20 · 1e-20 = 1 and L = 1e30·c are finite (Float), but ∂L/∂b = a·∂L/∂c = 1e20·1e30 =
  /// 1e50 overflows: matmul's pullback returns inf for its input 1.
  @Test func backwardAnomalyOfAFunctionNamesItsFileAndLine() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      withAnomalyDetection {
        let a = Tensor<Float>([1e20], shape: [1, 1]).requireGrad()
        let b = Tensor<Float>([1e-20], shape: [1, 1]).requireGrad()
        let loss = (a.matmul(b) * 1e30).sum()
        loss.backward()
      }
    }
    let message = Self.standardError(result)
    #expect(
      message.contains(
        "the backward pass of matmul produced inf at element 0 of the gradient for input 1 "
          + "(inputs [1, 1], [1, 1], output [1, 1]); the upstream gradient was finite"), "\(message)")
    #expect(message.contains("The op was created at AwesomegradTests/AnomalyTests.swift:"), "\(message)")
  }

  /// y = a / b = 1 / 1e-200 = 1e200 is finite, but ∂y/∂b = −a/b² = −1e400 overflows to −inf.
  /// The backward pass is run after the block: the pullback was wrapped when the op ran inside it.
  @Test func backwardAnomalyOfAnOperatorNamesTheCallerFromTheStack() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let y = withAnomalyDetection { divideByTiny().sum }
      y.backward()
    }
    let message = Self.standardError(result)
    #expect(
      message.contains(
        "the backward pass of div produced -inf at element 0 of the gradient for input 1 "
          + "(inputs [1], [1], output [1]); the upstream gradient was finite"), "\(message)")
    #expect(
      message.contains(
        "The op was created at Tests/AwesomegradTests/AnomalyTests.swift:\(divideByTiny(run: false).line)"),
      "\(message)")
    #expect(message.contains("in divideByTiny(run:)"), "\(message)")
  }

  /// A non-finite input is reported as such: the op is where it was first seen, not where it came from.
  @Test func nonFiniteInputIsNamed() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      withAnomalyDetection {
        _ = Tensor<Double>([1, .nan]).matmul(Tensor<Double>([1, 1]))
      }
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("input 0 (a leaf: data or a parameter) already holds non-finite values"), "\(message)")
  }

  /// Outside the mode nothing is checked: 0/0 is NaN, as IEEE 754 says, and nothing stops.
  @Test func offByDefault() {
    #expect(!GradMode.isAnomalyDetectionEnabled)
    let y = Tensor<Double>([0]) / Tensor<Double>([0])
    #expect(y.scalars[0].isNaN)
  }

  /// The two modes are independent switches of one task-local value.
  @Test func modesNest() {
    withAnomalyDetection {
      #expect(GradMode.isAnomalyDetectionEnabled && GradMode.isEnabled)
      withoutGrad {
        #expect(GradMode.isAnomalyDetectionEnabled && !GradMode.isEnabled)
        let w = Tensor<Double>([1, 2]).requireGrad()
        #expect(!(w * 2).requiresGrad)
      }
      #expect(GradMode.isEnabled)
    }
    #expect(!GradMode.isAnomalyDetectionEnabled)
  }

  /// Inside the mode a finite computation runs and differentiates as usual: y = Σ x², ∂y/∂x = 2x.
  @Test func finiteValuesPass() {
    let x = Tensor<Double>([1, -2, 3]).requireGrad()
    withAnomalyDetection {
      let y = (x * x).sum()
      y.backward()
    }
    #expect(x.grad!.scalars == [2, -4, 6])
  }
}

// Operators outside the exit tests' bodies: a macro expands those bodies into generated files, whose
// lines the debug information then names; a function is what a user's code looks like. Each returns
// the line of its division (and with `run: false` only that), for the expectation.

/// [1, 0] / [1, 0] = [1, NaN].
@inline(never) func divideZeroByZero(run: Bool = true) -> UInt {
  let a = Tensor<Double>([1, 0]), b = Tensor<Double>([1, 0])
  let (_, line): (Tensor<Double>, UInt) = (run ? a / b : a, #line)
  return line
}

/// Σ (1 / 1e-200) = 1e200, finite; its gradient for the divisor is −1/(1e-200)² = −inf.
@inline(never) func divideByTiny(run: Bool = true) -> (sum: Tensor<Double>, line: UInt) {
  let a = Tensor<Double>([1]).requireGrad(), b = Tensor<Double>([1e-200]).requireGrad()
  let (quotient, line): (Tensor<Double>, UInt) = (run ? a / b : a, #line)
  return (quotient.sum(), line)
}

/// An infinity that an input already holds (a −∞ attention mask) is not an anomaly where it flows:
/// softmax([0, −∞]) = [1, 0] and its gradient is finite; only a NaN or a new infinity stops.
@Suite struct AnomalyMaskTests {
  @Test func deliberateInfinityFlowsThrough() {
    let scores = Tensor<Double>([0.5, 0.5]).requireGrad()
    let mask = Tensor<Double>([0, -.infinity])
    withAnomalyDetection {
      let p = (scores + mask).softmax(axis: 0)
      #expect(p.scalars == [1, 0])
      (p * Tensor([2, 3])).sum().backward()
    }
    // ∂Σ pᵢcᵢ/∂s₀ = p₀(c₀ − Σ pⱼcⱼ) = 1·(2 − 2) = 0, and s₁ is masked: 0.
    #expect(scores.grad!.scalars == [0, 0])
  }

  /// maskedFill(mask, −∞) writes the caller's infinity on purpose: the causal softmax of [1, 2] over
  /// a lower-triangular mask is [[1, 0], [e/(e + e²), e²/(e + e²)]], finite, and nothing stops.
  @Test func maskedFillWithInfinityPasses() {
    let scores = Tensor<Double>([1, 2, 1, 2], shape: [2, 2]).requireGrad()
    let causal = MaskTensor.lowerTriangular(rows: 2, columns: 2)
    let p = withAnomalyDetection { scores.maskedFill(!causal, with: -.infinity).softmax(axis: -1) }
    #expect(p.scalars[0] == 1 && p.scalars[1] == 0)
    #expect(Swift.abs(p.scalars[3] - 1 / (1 + 1 / 2.718281828459045)) < 1e-12)
  }
}
