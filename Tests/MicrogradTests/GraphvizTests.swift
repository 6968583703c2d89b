import Micrograd
import Testing

/// micrograd's draw_dot in DOT text: a record per value with data and grad, an op node per result.
@Suite struct ValueGraphvizTests {
  /// micrograd's README example: e = a·b, d = e + c, L = d·f with a = 2, b = −3, c = 10, f = −2.
  /// L = (2·−3 + 10)·−2 = −8; ∂L/∂d = f = −2, ∂L/∂f = d = 4, ∂L/∂c = ∂L/∂e = −2,
  /// ∂L/∂a = −2·b = 6, ∂L/∂b = −2·a = −4.
  @Test func recordsOpsAndEdges() {
    let a = Value(2), b = Value(-3), c = Value(10), f = Value(-2)
    let e = a * b
    let d = e + c
    let L = d * f
    L.backward()
    let dot = L.graphviz(names: [("a", a), ("b", b), ("c", c), ("d", d), ("e", e), ("f", f), ("L", L)])
    let expected = """
      digraph micrograd {
        graph [rankdir=LR, fontname="Helvetica"];
        node [fontname="Helvetica", fontsize=11];
        v0 [shape=record, label="{ L | data -8.0000 | grad 1.0000 }"];
        v0_op [label="*"];
        v0_op -> v0;
        v1 [shape=record, label="{ d | data 4.0000 | grad -2.0000 }"];
        v1_op [label="+"];
        v1_op -> v1;
        v2 [shape=record, label="{ f | data -2.0000 | grad 4.0000 }"];
        v3 [shape=record, label="{ e | data -6.0000 | grad -2.0000 }"];
        v3_op [label="*"];
        v3_op -> v3;
        v4 [shape=record, label="{ c | data 10.0000 | grad -2.0000 }"];
        v5 [shape=record, label="{ a | data 2.0000 | grad 6.0000 }"];
        v6 [shape=record, label="{ b | data -3.0000 | grad -4.0000 }"];
        v1 -> v0_op;
        v2 -> v0_op;
        v3 -> v1_op;
        v4 -> v1_op;
        v5 -> v3_op;
        v6 -> v3_op;
      }

      """
    #expect(dot == expected)
  }

  /// A constant operand is part of the op's label: 3·x and x².
  @Test func constantsInOpLabels() {
    let x = Value(1.5)
    let dot = (x * 3 + x.pow(2)).graphviz()
    #expect(dot.contains("[label=\"* 3.0\"]"))
    #expect(dot.contains("[label=\"**2.0\"]"))
  }
}
