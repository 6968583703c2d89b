import Awesomegrad
import AwesomegradModels
import Foundation
import Testing

/// The next-token loss and its gradients against `transformers` (`model(ids, labels=ids)` on a
/// 2 × 16 batch, then `loss.backward()`): loss and every parameter's gradient norm, by Hugging Face
/// name, to a relative 1e-4; full gradients of a few tensors; the loss after one SGD step.
@Suite struct TrainingTests {
  static func relative(_ a: Double, _ b: Double) -> Double { Swift.abs(a - b) / Swift.max(Swift.abs(b), 1e-12) }

  @Test(arguments: ["gpt2", "llama"])
  func lossAndGradientNormsMatchTransformers(_ name: String) throws {
    let model = try LogitsTests.load(name)
    let step = HFFixture.model(name)["train_step"] as! [String: Any]
    let rows = (step["input_ids"] as! [[Any]]).map { ints($0) }
    let tokens = IndexTensor(rows.flatMap { $0 }, shape: [rows.count, rows[0].count])
    let loss = model.loss(tokens)
    #expect(Self.relative(Double(loss.item()), (step["loss"] as! NSNumber).doubleValue) <= 1e-4)
    loss.backward()

    let norms = step["grad_norm"] as! [String: Any]
    #expect(Set(model.namedParameters.map(\.name)) == Set(norms.keys))
    for (parameter, tensor) in model.namedParameters {
      let gradient = try #require(tensor.grad, "\(parameter) has no gradient")
      let norm = gradient.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
      let expected = (norms[parameter] as! NSNumber).doubleValue
      #expect(Self.relative(norm, expected) <= 1e-4, "\(name) \(parameter): \(norm) vs \(expected)")
    }
    // Full gradients, row-major in the stored layout (Conv1D's [in, out]).
    for (parameter, entry) in step["grad_values"] as! [String: [String: Any]] {
      let tensor = model.namedParameters.first { $0.name == parameter }!.tensor
      #expect(tensor.shape == ints(entry["shape"]))
      let difference = LogitsTests.maxDifference(tensor.grad!.scalars, floats(entry["values"]))
      let scale = floats(entry["values"]).map { Swift.abs($0) }.max()!
      #expect(difference <= 1e-4 * Swift.max(scale, 1), "\(name) \(parameter): \(difference)")
    }
    // One plain SGD step, p ← p − lr·∂p, then the same loss.
    let lr = (step["sgd_lr"] as! NSNumber).floatValue
    SGD(model.parameters, learningRate: Double(lr)).step()
    let after = withoutGrad { model.loss(tokens).item() }
    #expect(Self.relative(Double(after), (step["loss_after_sgd_step"] as! NSNumber).doubleValue) <= 1e-4)
  }

  /// Right-padded rows of different lengths: the loss averages over the real predicted positions
  /// only, so it equals the loss of the rows' concatenated predictions.
  @Test func paddedRowsAverageOverRealPositions() throws {
    let model = try LogitsTests.load("llama")
    let a = [5, 9, 40, 41, 42, 43], b = [7, 8, 9]
    let padded = IndexTensor(a + b + [0, 0, 0], shape: [2, 6])
    let batch = withoutGrad { model.loss(padded, lengths: [6, 3]).item() }
    let lossA = withoutGrad { model.loss(IndexTensor(a, shape: [1, 6])).item() }
    let lossB = withoutGrad { model.loss(IndexTensor(b, shape: [1, 3])).item() }
    #expect(Swift.abs(batch - (5 * lossA + 2 * lossB) / 7) <= 1e-5)
  }
}
