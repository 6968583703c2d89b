import Testing

@testable import Awesomegrad

/// Both cross-entropy overloads (labels as `[Int]` and as `IndexTensor`) are one implementation and
/// give PyTorch's loss and gradient on rows with non-finite logits. The expected numbers were printed
/// by PyTorch 2.15.0 (float64, CPU):
///
///     z = torch.tensor([row], dtype=torch.float64, requires_grad=True)
///     l = F.cross_entropy(z, torch.tensor([0]), reduction='sum', label_smoothing=ε); l.backward()
///
/// PyTorch's rule (log_softmax, then nll_loss): a NaN or a +∞ anywhere, or only −∞, makes the loss
/// and every gradient NaN; a −∞ at the label makes the loss +∞ with the finite gradient
/// softmax − one-hot; a −∞ elsewhere has probability 0. With smoothing, the ε term sums −log pⱼ, so
/// a −∞ logit anywhere makes it +∞, and so do finite logits 2·10³⁰⁸ apart (the sum overflows).
@Suite struct CrossEntropyNonFiniteTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let row: [Double]
    var smoothing = 0.0
    let loss: Double
    let gradient: [Double]
    var testDescription: String { name }
  }

  static let nan = Double.nan, inf = Double.infinity
  static let cases: [Case] = [
    Case(name: "only −∞", row: [-inf, -inf, -inf], loss: nan, gradient: [nan, nan, nan]),
    Case(
      name: "−∞ at the label", row: [-inf, 1, 2], loss: inf,
      gradient: [-1, 0.2689414213699951, 0.7310585786300049]),
    Case(
      name: "−∞ elsewhere", row: [1, -inf, 2], loss: 1.3132616875182228,
      gradient: [-0.7310585786300049, 0, 0.7310585786300049]),
    Case(name: "+∞ at the label", row: [inf, 1, 2], loss: nan, gradient: [nan, nan, nan]),
    Case(name: "+∞ elsewhere", row: [1, inf, 2], loss: nan, gradient: [nan, nan, nan]),
    Case(name: "two +∞", row: [inf, inf, 2], loss: nan, gradient: [nan, nan, nan]),
    Case(name: "NaN at the label", row: [nan, 1, 2], loss: nan, gradient: [nan, nan, nan]),
    Case(name: "NaN elsewhere", row: [1, nan, 2], loss: nan, gradient: [nan, nan, nan]),
    Case(name: "+∞ and −∞", row: [1, inf, -inf], loss: nan, gradient: [nan, nan, nan]),
    Case(name: "huge finite", row: [1e308, -1e308, 0], loss: 0, gradient: [0, 0, 0]),
    Case(
      name: "smoothing, −∞ at the label", row: [-inf, 1, 2], smoothing: 0.1, loss: inf,
      gradient: [-0.9333333333333333, 0.23560808803666178, 0.6977252452966716]),
    Case(
      name: "smoothing, −∞ elsewhere", row: [1, -inf, 2], smoothing: 0.1, loss: inf,
      gradient: [-0.6643919119633382, -0.03333333333333333, 0.6977252452966716]),
    Case(name: "smoothing, +∞", row: [1, inf, 2], smoothing: 0.1, loss: nan, gradient: [nan, nan, nan]),
    Case(
      name: "smoothing, huge finite", row: [1e308, -1e308, 0], smoothing: 0.1, loss: inf,
      gradient: [0.06666666666666665, -0.03333333333333333, -0.03333333333333333]),
  ]

  /// Equal as PyTorch prints them: NaN matches NaN, ∞ matches ∞, finite values to 1e-12.
  static func same(_ a: Double, _ b: Double) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if !a.isFinite || !b.isFinite { return a == b }
    return abs(a - b) <= 1e-12 * (1 + abs(b))
  }

  func check(_ c: Case, _ loss: (Tensor<Double>) -> Tensor<Double>, _ overload: String) {
    let z = Tensor<Double>(c.row, shape: [1, 3], requiresGrad: true)
    let l = loss(z)
    #expect(Self.same(l.item(), c.loss), "\(overload): loss \(l.item()), PyTorch \(c.loss)")
    l.backward()
    let gradient = z.grad!.scalars
    #expect(
      zip(gradient, c.gradient).allSatisfy(Self.same),
      "\(overload): gradient \(gradient), PyTorch \(c.gradient)")
  }

  @Test(arguments: cases)
  func indexTensorLabelsMatchPyTorch(_ c: Case) {
    check(
      c, { crossEntropy($0, labels: IndexTensor([0]), labelSmoothing: c.smoothing, reduction: .sum) },
      "IndexTensor")
  }

  @Test(arguments: cases.filter { $0.smoothing == 0 })
  func intLabelsMatchPyTorch(_ c: Case) {
    check(c, { crossEntropy($0, labels: [0], reduction: .sum) }, "[Int]")
  }

  /// Finite rows: the two overloads give the same bits for every reduction, the mean included.
  @Test func overloadsAgreeBitForBit() {
    var rng = SeededGenerator(seed: 3)
    let logits = Tensor<Float>.randomNormal([6, 5], using: &rng)
    let labels = [4, 0, 2, 2, 1, 3]
    for reduction in Reduction.allCases {
      let a = logits.detached().requireGrad(), b = logits.detached().requireGrad()
      let la = crossEntropy(a, labels: labels, reduction: reduction)
      let lb = crossEntropy(b, labels: IndexTensor(labels), reduction: reduction)
      #expect(la.scalars.map(\.bitPattern) == lb.scalars.map(\.bitPattern), "\(reduction)")
      la.sum().backward()
      lb.sum().backward()
      #expect(a.grad!.scalars.map(\.bitPattern) == b.grad!.scalars.map(\.bitPattern), "\(reduction)")
    }
  }
}
