import Foundation

/// Keras' `model.summary()`: a table of the layers with their output shapes and parameter counts,
/// and the memory the parameters and activations take.
///
/// ```
/// Layer (type)               Output shape        Param #
/// ======================================================
/// MLP                        [64, 10]                 --
///   layers (Sequential)      [64, 10]                 --
///     layers.0 (Linear)      [64, 256]           200,960
///     layers.1 (ReLU)        [64, 256]                 0
///     layers.2 (Linear)      [64, 10]              2,570
/// ======================================================
/// ```
///
/// ## How it finds the output shapes
/// Swift modules have no forward hooks, so the summary does not watch the forward pass; it runs it.
/// It feeds zeros of the input shape through the model, in ``withoutGrad(_:)-5c1h3`` and in evaluation
/// mode (so dropout is the identity and batch norm does not update its running statistics; each
/// module's mode is restored afterwards), walking containers whose forward pass is their children in
/// order: a ``Sequential`` (each layer gets a row, recursively) and an ``MLP`` (its `layers`). Any
/// other module is run as a whole and is one row, its parameter count including its children's
/// (``Module/description`` lists those children).
///
/// Activation bytes add up the outputs of the innermost rows: about what a training forward pass
/// keeps for backward, not counting an op's internal intermediates.
public struct ModelSummary: CustomStringConvertible, Sendable {
  /// One module of the table.
  public struct Row: Sendable, Equatable {
    /// The dotted name (`layers.0`); empty for the model itself.
    public let name: String
    /// The module's class without generic arguments (`Linear`).
    public let type: String
    /// The output's shape for the summary's input.
    public let outputShape: [Int]
    /// Parameters of this module and its children; nil for a container whose children have rows.
    public let parameterCount: Int?
    /// How deep the module sits below the model (0 for the model).
    public let depth: Int
  }

  /// The rows, in forward order, containers before their children.
  public let rows: [Row]
  /// The input's shape.
  public let inputShape: [Int]
  /// The number of parameters (each shared tensor once).
  public let parameterCount: Int
  /// The number of parameters that require grad.
  public let trainableParameterCount: Int
  /// The number of buffer elements (running statistics, and the integers of ``IntegerBuffer``s).
  public let bufferCount: Int
  /// The size of one scalar: 4 for Float, 8 for Double.
  public let scalarSize: Int
  /// How many of ``bufferCount`` are ``IntegerBuffer`` elements (8 bytes each).
  let integerBufferCount: Int

  /// The bytes of the parameters.
  public var parameterBytes: Int { parameterCount * scalarSize }
  /// The bytes of the buffers: scalars of the module's type, and 8 per integer.
  public var bufferBytes: Int { (bufferCount - integerBufferCount) * scalarSize + integerBufferCount * 8 }
  /// The bytes of the input.
  public var inputBytes: Int { inputShape.reduce(1, *) * scalarSize }
  /// The bytes of the outputs of the innermost rows (see the type's discussion).
  public var activationBytes: Int {
    var total = 0
    for (index, row) in rows.enumerated() where index + 1 == rows.count || rows[index + 1].depth <= row.depth
    {
      total += row.outputShape.reduce(1, *) * scalarSize
    }
    return total
  }

  /// The table, ready to print.
  public var description: String {
    let cells = rows.map { row -> (String, String, String) in
      let indent = String(repeating: "  ", count: row.depth)
      let name = row.name.isEmpty ? row.type : "\(row.name) (\(row.type))"
      return (indent + name, "\(row.outputShape)", row.parameterCount.map(groupedDigits) ?? "--")
    }
    let header = ("Layer (type)", "Output shape", "Param #")
    let first = max(header.0.count, cells.map(\.0.count).max() ?? 0) + 3
    let second = max(header.1.count, cells.map(\.1.count).max() ?? 0) + 3
    let third = max(header.2.count, cells.map(\.2.count).max() ?? 0)
    func line(_ c: (String, String, String)) -> String {
      c.0.padding(toLength: first, withPad: " ", startingAt: 0)
        + c.1.padding(toLength: second, withPad: " ", startingAt: 0)
        + String(repeating: " ", count: third - c.2.count) + c.2
    }
    let rule = String(repeating: "=", count: first + second + third)
    var lines = [line(header), rule] + cells.map(line) + [rule]
    lines.append("Total parameters: \(groupedDigits(parameterCount)) (\(byteCount(parameterBytes)))")
    lines.append("Trainable parameters: \(groupedDigits(trainableParameterCount))")
    if bufferCount > 0 { lines.append("Buffers: \(groupedDigits(bufferCount)) (\(byteCount(bufferBytes)))") }
    lines.append("Input \(inputShape): \(byteCount(inputBytes))")
    lines.append("Activations (outputs of the innermost rows): \(byteCount(activationBytes))")
    return lines.joined(separator: "\n")
  }
}

extension Module {
  /// The summary table for an input of `inputShape` (batch axis included): each layer's output
  /// shape and parameter count, the totals and the bytes of parameters and activations. See
  /// ``ModelSummary`` for how the shapes are found.
  ///
  /// ```swift
  /// print(model.summary(inputShape: [64, 784]))
  /// ```
  public func summary(inputShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> ModelSummary {
    if inputShape.contains(where: { $0 < 0 }) {
      argumentFailure("summary", "the input shape \(inputShape) has a negative size", file: file, line: line)
    }
    let modes = namedModules.map { ($0.module, $0.module.isTraining) }
    eval()
    // train(_:) sets a whole subtree; restoring in namedModules order (parents before children)
    // leaves every module with its own saved mode.
    defer { for (module, training) in modes { module.train(training) } }
    var rows: [ModelSummary.Row] = []
    withoutGrad {
      _ = summaryTrace(name: "", input: Tensor<Scalar>.zeros(inputShape), depth: 0, rows: &rows)
    }
    let parameters = self.parameters
    let integerCount = namedIntegerBuffers.reduce(0) { $0 + $1.buffer.values.count }
    return ModelSummary(
      rows: rows, inputShape: inputShape, parameterCount: parameters.reduce(0) { $0 + $1.count },
      trainableParameterCount: parameters.filter(\.requiresGrad).reduce(0) { $0 + $1.count },
      bufferCount: namedBuffers.reduce(0) { $0 + $1.tensor.count } + integerCount,
      scalarSize: MemoryLayout<Scalar>.size, integerBufferCount: integerCount)
  }

  /// Runs this module on `input`, appending its row and, for a chain, its children's rows first.
  private func summaryTrace(
    name: String, input: Tensor<Scalar>, depth: Int, rows: inout [ModelSummary.Row]
  ) -> Tensor<Scalar> {
    let chain: [(String, Module<Scalar>)]? =
      if let sequential = self as? Sequential<Scalar> {
        sequential.children
      } else if let mlp = self as? MLP<Scalar> {
        [("layers", mlp.layers)]
      } else {
        nil
      }
    guard let chain else {
      let output = self(input)
      rows.append(
        .init(
          name: name, type: moduleTypeName, outputShape: output.shape, parameterCount: parameterCount,
          depth: depth))
      return output
    }
    let index = rows.count
    rows.append(.init(name: name, type: moduleTypeName, outputShape: [], parameterCount: nil, depth: depth))
    var x = input
    for (childName, child) in chain {
      let dotted = name.isEmpty ? childName : name + "." + childName
      x = child.summaryTrace(name: dotted, input: x, depth: depth + 1, rows: &rows)
    }
    rows[index] = .init(
      name: name, type: moduleTypeName, outputShape: x.shape, parameterCount: nil, depth: depth)
    return x
  }

  /// ‖∂L/∂p‖₂ of every parameter, with its `state_dict` name, in ``namedParameters`` order; nil for a
  /// parameter that has no gradient yet. Watch it during training: a norm that grows by orders of
  /// magnitude from step to step comes before a NaN, one stuck at 0 is a dead layer.
  ///
  /// ```swift
  /// loss.backward()
  /// for (name, norm) in model.gradientNorms() { print(name, norm ?? .nan) }
  /// ```
  public func gradientNorms() -> [(name: String, norm: Scalar?)] {
    namedParameters.map { name, tensor in
      guard let g = tensor.gradStorage else { return (name, nil) }
      var sum: Scalar = 0
      let base = g.buffer.base
      for i in 0..<g.count { sum += base[i] * base[i] }
      return (name, sum.squareRoot())
    }
  }
}

/// 1234567 → "1,234,567".
func groupedDigits(_ n: Int) -> String {
  let digits = String(Swift.abs(n))
  var out = ""
  for (i, d) in digits.enumerated() {
    if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
    out.append(d)
  }
  return (n < 0 ? "-" : "") + out
}

/// Bytes in B, KiB, MiB or GiB with two decimals.
func byteCount(_ bytes: Int) -> String {
  let units = ["B", "KiB", "MiB", "GiB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1024 && unit < units.count - 1 {
    value /= 1024
    unit += 1
  }
  return unit == 0 ? "\(bytes) B" : "\(String(format: "%.2f", value)) \(units[unit])"
}
