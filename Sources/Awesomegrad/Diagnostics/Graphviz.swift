import Foundation

/// Pictures of the graph: Graphviz DOT text that `dot -Tsvg` renders.
///
/// Each tensor of the graph is one node, drawn with an edge from each input to the op's result:
/// - an op's result (an ellipse): the op's name, shape and dtype;
/// - a leaf (a box): its name if you passed one, its shape and dtype, and after a backward pass the
///   L2 norm of its gradient, ‖∂L/∂leaf‖₂; a one-element constant shows its value;
/// - the tensor you called it on is filled in grey.
///
/// Interior gradients are not kept (backward drops them once they are propagated), so only leaves
/// show a gradient. A backward pass without `retainGraph: true` also releases the graph: export
/// before backward, or after `backward(retainGraph: true)` to see the gradient norms too.
extension Tensor {
  /// The graph that ends at this tensor, as Graphviz DOT.
  ///
  /// ```swift
  /// let loss = hingeLoss(model(x), labels: y)
  /// loss.backward(retainGraph: true)
  /// try loss.graphviz(names: model.namedParameters).write(toFile: "step.dot", atomically: true, encoding: .utf8)
  /// // dot -Tsvg step.dot -o step.svg
  /// ```
  ///
  /// - Parameters:
  ///   - names: names for leaves, matched by identity (`model.namedParameters`, or your inputs).
  ///   - rankdir: Graphviz's layout direction: `"LR"` left to right (inputs at the left), or `"TB"`.
  /// - Returns: a `digraph` with one node per tensor (`t0` is this tensor) and one edge per input.
  public func graphviz(names: [(name: String, tensor: Tensor)] = [], rankdir: String = "LR") -> String {
    var nameOf: [ObjectIdentifier: String] = [:]
    for (name, tensor) in names where nameOf[ObjectIdentifier(tensor)] == nil {
      nameOf[ObjectIdentifier(tensor)] = name
    }
    // Depth first from this tensor; numbering in order of discovery keeps the text deterministic.
    var ids: [ObjectIdentifier: Int] = [ObjectIdentifier(self): 0]
    var nodes: [Tensor] = [self]
    var edges: [(from: Int, to: Int)] = []
    var stack: [Tensor] = [self]
    while let node = stack.popLast() {
      let to = ids[ObjectIdentifier(node)]!
      for parent in node.parents {
        let key = ObjectIdentifier(parent)
        let from: Int
        if let known = ids[key] {
          from = known
        } else {
          from = nodes.count
          ids[key] = from
          nodes.append(parent)
          stack.append(parent)
        }
        edges.append((from, to))
      }
    }
    var dot = "digraph autograd {\n"
    dot += "  graph [rankdir=\(rankdir), fontname=\"Helvetica\"];\n"
    dot += "  node [fontname=\"Helvetica\", fontsize=11];\n"
    dot += "  edge [arrowsize=0.7];\n"
    for (id, node) in nodes.enumerated() {
      let type = "\(node.shape) \(Scalar.self)"
      var lines: [String]
      var attributes: [String]
      if node.pullback != nil || !node.parents.isEmpty {
        lines = ["\(node.op)", type]
        attributes = ["shape=ellipse"]
      } else {
        let name = nameOf[ObjectIdentifier(node)]
        if node.isReleased {
          lines = [name ?? "\(node.op)", type, "(graph released by backward)"]
        } else if let name {
          lines = [name, type]
        } else if node.count == 1 && !node.requiresGrad {
          lines = ["constant \(node.storage.buffer.base[0])", type]
        } else {
          lines = [node.requiresGrad ? "leaf" : "input", type]
        }
        if let g = node.gradStorage { lines.append("‖grad‖ = \(formatNorm(g))") }
        attributes = ["shape=box", "style=rounded"]
      }
      if id == 0 {
        // The tensor the picture is of, filled.
        attributes = [
          attributes[0], node.isLeaf ? "style=\"filled,rounded\"" : "style=\"filled\"",
          "fillcolor=\"#e8e8e8\"",
        ]
      }
      let label = lines.map(escapeDOT).joined(separator: "\\n")
      dot += "  t\(id) [label=\"\(label)\", \(attributes.joined(separator: ", "))];\n"
    }
    for edge in edges {
      dot += "  t\(edge.from) -> t\(edge.to);\n"
    }
    return dot + "}\n"
  }
}

/// ‖g‖₂ with four significant digits (`%.4g`).
func formatNorm<Scalar: TensorScalar>(_ g: Storage<Scalar>) -> String {
  var sum = 0.0
  let base = g.buffer.base
  for i in 0..<g.count { sum += Double(base[i]) * Double(base[i]) }
  return String(format: "%.4g", sum.squareRoot())
}

/// Escapes a string for a double-quoted DOT label.
func escapeDOT(_ text: String) -> String {
  var out = ""
  for character in text {
    switch character {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    default: out.append(character)
    }
  }
  return out
}
