import Awesomegrad
import AwesomegradModels
import Testing

/// Errors raised inside the library on the user's behalf (a layer's forward pass calling an op with
/// its own line, a model checking its arguments) name the user's file and line: the first frame of
/// the call stack outside the package's libraries, not a line of Linear.swift or GPT.swift. (Inside an
/// exit test that frame is the test's closure, in the macro's expansion: the function is checked.)
@Suite struct CallerLocationTests {
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  /// Linear's forward pass calls `linear(weight:bias:)` from the library; the message names this file.
  @Test func linearForwardNamesTheCaller() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var rng = SeededGenerator(seed: 0)
      let layer = Linear<Float>(inputs: 3, outputs: 2, using: &rng)
      _ = layer(Tensor<Float>.zeros([4, 5]))
    }
    let message = Self.standardError(result)
    #expect(message.contains("in CallerLocationTests.linearForwardNamesTheCaller()"), "\(message)")
    #expect(!message.contains("(at Awesomegrad/"), "\(message)")
  }

  @Test func batchNormForwardNamesTheCaller() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let norm = BatchNorm1d<Float>(features: 3)
      _ = norm(Tensor<Float>.zeros([4, 5]))
    }
    let message = Self.standardError(result)
    #expect(message.contains("the input must be"), "\(message)")
    #expect(message.contains("in CallerLocationTests.batchNormForwardNamesTheCaller()"), "\(message)")
  }

  @Test func gptGenerateNamesTheCaller() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var rng = SeededGenerator(seed: 0)
      let model = GPT<Float>(
        GPTConfiguration(vocabularySize: 5, contextLength: 4, layers: 1, heads: 1, width: 4), using: &rng)
      _ = model.generate(from: [], count: 1, using: &rng)
    }
    let message = Self.standardError(result)
    #expect(message.contains("GPT.generate: needs a non-empty prompt"), "\(message)")
    #expect(message.contains("in CallerLocationTests.gptGenerateNamesTheCaller()"), "\(message)")
    #expect(!message.contains("(at AwesomegradModels/"), "\(message)")
  }

  /// Layer and optimizer initialisers take `file:line`, so their checks name the caller's line even
  /// where no debug information lets the stack be read (release builds).
  @Test func layerInitializersTakeTheCallersLine() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = BatchNorm2d<Float>(features: 4, momentum: 2)
    }
    let message = Self.standardError(result)
    #expect(message.contains("BatchNorm2d<Float>: momentum must be in [0, 1], got 2.0"), "\(message)")
    #expect(message.contains("(at AwesomegradTests/CallerLocationTests.swift:"), "\(message)")
  }

  /// A user's own call keeps its `file:line` as given, without a stack walk.
  @Test func aDirectCallNamesItsLine() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.zeros([2, 3]).matmul(.zeros([4, 5]))
    }
    let message = Self.standardError(result)
    #expect(message.contains("(at AwesomegradTests/CallerLocationTests.swift:"), "\(message)")
  }
}
