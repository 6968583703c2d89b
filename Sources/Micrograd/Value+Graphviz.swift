/// micrograd's `draw_dot`: the graph that ends at a value, as Graphviz DOT text.
extension Value {
  /// The graph that ends at this value, as Graphviz DOT, drawn as micrograd's `draw_dot` draws it:
  /// left to right, one record per value showing `data` and `grad` (and its name if you gave one),
  /// and for each op an oval node with the op's name between its inputs and its result. A constant
  /// operand (`x * 3`, `x.pow(2)`) is part of the op's name (`* 3.0`, `**2.0`), since it is not a
  /// value here.
  ///
  /// ```swift
  /// let x = Value(-4), y = (2 * x + 2).relu() + x * x
  /// y.backward()
  /// print(y.graphviz(names: [("x", x), ("y", y)]))   // dot -Tsvg graph.dot -o graph.svg
  /// ```
  ///
  /// - Parameter names: labels for values, matched by identity.
  /// - Returns: a `digraph` whose value nodes are `v0` (this value), `v1`, … in depth-first order,
  ///   each op node `v<n>_op` feeding value `v<n>`.
  public func graphviz(names: [(name: String, value: Value)] = []) -> String {
    var nameOf: [ObjectIdentifier: String] = [:]
    for (name, value) in names where nameOf[ObjectIdentifier(value)] == nil {
      nameOf[ObjectIdentifier(value)] = name
    }
    var ids: [ObjectIdentifier: Int] = [ObjectIdentifier(self): 0]
    var nodes: [Value] = [self]
    var edges: [(from: Int, to: Int)] = []
    var stack: [Value] = [self]
    while let node = stack.popLast() {
      let to = ids[ObjectIdentifier(node)]!
      for child in node.children {
        let key = ObjectIdentifier(child)
        let from: Int
        if let known = ids[key] {
          from = known
        } else {
          from = nodes.count
          ids[key] = from
          nodes.append(child)
          stack.append(child)
        }
        edges.append((from, to))
      }
    }
    var dot = "digraph micrograd {\n"
    dot += "  graph [rankdir=LR, fontname=\"Helvetica\"];\n"
    dot += "  node [fontname=\"Helvetica\", fontsize=11];\n"
    for (id, node) in nodes.enumerated() {
      let data = "data \(fourDecimals(node.data))", grad = "grad \(fourDecimals(node.grad))"
      let fields = (nameOf[ObjectIdentifier(node)].map { [recordEscaped($0)] } ?? []) + [data, grad]
      dot += "  v\(id) [shape=record, label=\"{ \(fields.joined(separator: " | ")) }\"];\n"
      if !node.origin.isLeaf {
        dot += "  v\(id)_op [label=\"\(recordEscaped(node.origin.graphLabel))\"];\n"
        dot += "  v\(id)_op -> v\(id);\n"
      }
    }
    for edge in edges {
      dot += "  v\(edge.from) -> v\(edge.to)_op;\n"
    }
    return dot + "}\n"
  }
}

extension Value.Origin {
  /// The op's name with its constant operand, if any: `+`, `* 3.0`, `**2.0`, `tanh`.
  var graphLabel: String {
    switch self {
    case .addConstant(_, let c): "+ \(c)"
    case .multiplyConstant(_, let c): "* \(c)"
    default: symbol
    }
  }
}

/// `%.4f`, as micrograd's `draw_dot` prints data and grad, without Foundation.
func fourDecimals(_ x: Double) -> String {
  guard x.isFinite else { return "\(x)" }
  let scaled = (x * 10_000).rounded()
  let negative = scaled < 0
  let magnitude = Swift.abs(scaled)
  guard magnitude < 1e15 else { return "\(x)" }
  let whole = Int(magnitude) / 10_000, fraction = Int(magnitude) % 10_000
  let digits = String(fraction)
  return (negative ? "-" : "") + "\(whole)." + String(repeating: "0", count: 4 - digits.count) + digits
}

/// Escapes the characters that a DOT record label or a quoted string treats specially.
func recordEscaped(_ text: String) -> String {
  var out = ""
  for character in text {
    if "{}|<>\"\\".contains(character) { out.append("\\") }
    out.append(character)
  }
  return out
}
