/// Inverted dropout: in training, each element is zeroed with probability p and the survivors are
/// scaled by 1/(1 − p), so the expected output equals the input; in evaluation, the identity.
///
///     y = x ⊙ m,  mᵢ = 0 with probability p, else 1/(1 − p)
///
/// The module owns its random generator, seeded at creation: two runs with the same seed drop the
/// same elements, and there is no global random state.
public final class Dropout<Scalar: TensorScalar>: Module<Scalar> {
  /// The probability of zeroing an element, in [0, 1).
  public let probability: Double
  /// The module's own generator; a ``TrainingCheckpoint`` saves and restores it.
  var generator: SeededGenerator

  /// A dropout layer with its own seeded generator.
  ///
  /// - Parameters:
  ///   - probability: the drop probability p, in [0, 1).
  ///   - generator: the source of the dropout seed; the module draws one value from it and keeps its
  ///     own generator from then on.
  ///   - file: the caller's file (`#fileID`), named in error messages.
  ///   - line: the caller's line.
  public init<G: RandomNumberGenerator>(
    probability: Double, using generator: inout G, file: StaticString = #fileID, line: UInt = #line
  ) {
    if !(0..<1).contains(probability) {
      argumentFailure("Dropout", "probability must be in [0, 1), got \(probability)", file: file, line: line)
    }
    self.probability = probability
    self.generator = SeededGenerator(seed: generator.next())
  }

  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public override func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    guard isTraining, probability > 0 else { return x }
    let keep = 1 - probability
    let scale = Scalar(1 / keep)
    let mask = Storage<Scalar>(uninitializedShape: x.shape)
    let m = mask.buffer.base
    for i in 0..<mask.count {
      m[i] = Double.random(in: 0..<1, using: &generator) < keep ? scale : 0
    }
    return x * Tensor(mask)
  }
}
