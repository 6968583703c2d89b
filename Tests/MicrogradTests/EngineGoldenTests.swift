import Micrograd
import Testing

/// micrograd's own engine tests (test_engine.py), whose expected numbers come from PyTorch.
@Suite struct EngineGoldenTests {
  /// x = −4;  z = 2x + 2 + x = −10;  q = relu(z) + z·x = 40;  h = relu(z²) = 100;
  /// y = h + q + q·x = −20.
  /// dy/dx = 46 (PyTorch): z' = 3, q' = z'·x + z = −22, h' = 2z·z' = −60, y' = h' + q' + q'·x + q = 46.
  @Test func sanityCheck() {
    let x = Value(-4.0)
    let z = 2 * x + 2 + x
    let q = z.relu() + z * x
    let h = (z * z).relu()
    let y = h + q + q * x
    y.backward()
    #expect(y.data == -20)
    #expect(x.grad == 46)
  }

  /// The "more ops" case: a = −4, b = 2 through +, *, **, relu, −, / and compound assignment.
  /// g = 24.704081632653061, ∂g/∂a = 138.83381924198251, ∂g/∂b = 645.57725947521866 (PyTorch).
  @Test func moreOps() {
    let a = Value(-4.0)
    let b = Value(2.0)
    var c = a + b
    var d = a * b + b.pow(3)
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    let e = c - d
    let f = e.pow(2)
    var g = f / 2.0
    g += 10.0 / f
    g.backward()
    #expect(isClose(g.data, 24.704081632653061, relative: 1e-12))
    #expect(isClose(a.grad, 138.83381924198251, relative: 1e-12))
    #expect(isClose(b.grad, 645.57725947521866, relative: 1e-12))
  }

  /// y = x·x + x = x² + x  ⇒  dy/dx = 2x + 1 = 7 at x = 3: a value used three times gets every
  /// contribution.
  @Test func gradientsAccumulateOverUses() {
    let x = Value(3)
    let y = x * x + x
    y.backward()
    #expect(y.data == 12)
    #expect(x.grad == 7)
  }

  /// Calling backward twice without zeroing adds the gradients (micrograd semantics); zeroGrad resets.
  @Test func backwardAccumulatesUntilZeroed() {
    let x = Value(5)
    let y = x * 3
    y.backward()
    let z = x * 4
    z.backward()
    #expect(x.grad == 7)
    x.zeroGrad()
    #expect(x.grad == 0)
  }

  /// Introspection mirrors micrograd's `_prev` and `_op`.
  @Test func childrenAndOperation() {
    let a = Value(1), b = Value(2)
    let c = a * b
    #expect(c.operation == "*")
    #expect(c.children.count == 2 && c.children[0] === a && c.children[1] === b)
    #expect(a.children.isEmpty && a.operation == "")
    #expect((a + 1).children.count == 1)
  }
}

/// |actual − expected| ≤ relative · max(1, |expected|).
func isClose(_ actual: Double, _ expected: Double, relative: Double) -> Bool {
  abs(actual - expected) <= relative * max(1, abs(expected))
}
