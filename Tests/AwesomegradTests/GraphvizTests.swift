import Awesomegrad
import Testing

/// The tensor graph as Graphviz DOT: one node per tensor, one edge per op input, labels with the
/// op, shape, dtype and the leaves' gradient norms.
@Suite struct GraphvizTests {
  /// loss = Σ tanh(x·w) with w = 0: z = 0, so ∂loss/∂w[i][j] = xᵢ · (1 − tanh²0) = xᵢ and
  /// ‖∂loss/∂w‖₂ = √(2 · (1² + 2² + 3²)) = √28 = 5.2915…, printed with four digits as 5.292.
  @Test func nodesEdgesAndLabels() {
    let x = Tensor<Double>([1, 2, 3], shape: [1, 3])
    let w = Tensor<Double>.zeros([3, 2]).requireGrad()
    let loss = x.matmul(w).tanh().sum()
    loss.backward(retainGraph: true)
    let dot = loss.graphviz(names: [("w", w)])
    let expected = """
      digraph autograd {
        graph [rankdir=LR, fontname="Helvetica"];
        node [fontname="Helvetica", fontsize=11];
        edge [arrowsize=0.7];
        t0 [label="sum\\n[] Double", shape=ellipse, style="filled", fillcolor="#e8e8e8"];
        t1 [label="tanh\\n[1, 2] Double", shape=ellipse];
        t2 [label="matmul\\n[1, 2] Double", shape=ellipse];
        t3 [label="input\\n[1, 3] Double", shape=box, style=rounded];
        t4 [label="w\\n[3, 2] Double\\n‖grad‖ = 5.292", shape=box, style=rounded];
        t1 -> t0;
        t2 -> t1;
        t3 -> t2;
        t4 -> t2;
      }

      """
    #expect(dot == expected)
  }

  /// A node used twice has one node and two edges; a one-element constant shows its value.
  @Test func sharedNodeAndConstant() {
    let a = Tensor<Float>([1, 2]).requireGrad()
    let y = (a * a) * 0.5
    let dot = y.graphviz()
    #expect(dot.contains("t0 [label=\"mul\\n[2] Float\""))
    #expect(dot.contains("t2 [label=\"constant 0.5\\n[] Float\", shape=box, style=rounded];"))
    #expect(dot.contains("t3 [label=\"leaf\\n[2] Float\", shape=box, style=rounded];"))
    #expect(dot.components(separatedBy: "t3 -> t1;").count == 3, "a * a: two edges from a\n\(dot)")
    #expect(!dot.contains("t4"))
  }

  /// backward() without retainGraph releases the graph: what is left is the root, marked released.
  @Test func releasedGraph() {
    let a = Tensor<Double>([1, 2]).requireGrad()
    let loss = (a * a).sum()
    loss.backward()
    #expect(loss.graphviz().contains("t0 [label=\"sum\\n[] Double\\n(graph released by backward)\""))
    #expect(!loss.graphviz().contains("->"))
  }
}
