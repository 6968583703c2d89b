import Foundation

#if canImport(Runtime)
  import Runtime
#endif

/// Anomaly mode (see ``withAnomalyDetection(_:_:)-1kwzh``): what an op does when it runs inside it.
///
/// The op-node initializer calls `Tensor.checkedForAnomalies` only when
/// the task-local mode says so; nothing here runs otherwise. It
/// 1. finds where the op was created: the caller's `file:line` when the op received it, else a
///    backtrace captured now and symbolicated only if something goes wrong;
/// 2. checks the op's output for NaN, and for infinities that it made from finite inputs;
/// 3. returns the pullback wrapped, so that backward checks the gradients it returns.
extension Tensor {
  @inline(never)
  static func checkedForAnomalies(
    _ output: Storage<Scalar>, op: StaticString, inputs: [Tensor], file: StaticString, line: UInt,
    _ pullback: @escaping Pullback
  ) -> Pullback {
    let site = CreationSite(file: file, line: line)
    // Which pass made this op: 0 is the forward pass; k ≥ 1 is a backward pass with createGraph.
    let recordedBy = GradMode.state.backwardPass
    let forwardPass =
      recordedBy == 0 ? "the forward pass of \(op)" : "the forward pass of \(op) recorded by backward pass \(recordedBy) (createGraph)"
    let backwardPass =
      recordedBy == 0
      ? "the backward pass of \(op)"
      : "backward pass \(recordedBy + 1) (through a gradient recorded with createGraph) of \(op)"
    let inputShapes = inputs.map(\.shape)
    let outputShape = output.shape
    if let bad = firstNonFinite(output) {
      let nonFiniteInput = inputs.firstIndex { firstNonFinite($0.storage) != nil }
      // NaN is always an anomaly. An infinity is one where this op made it from finite inputs: a −∞
      // put in on purpose (an attention mask, a padding score) flows through the ops after it, and
      // maskedFill writes the caller's own value.
      let deliberate = "\(op)" == "maskedFill"
      if bad.kind == "NaN" || (nonFiniteInput == nil && !deliberate) {
        let inputsNote: String
        if let index = nonFiniteInput {
          let input = inputs[index]
          let origin = input.isLeaf ? "a leaf: data or a parameter" : "made by \(input.op)"
          inputsNote = "input \(index) (\(origin)) already holds non-finite values"
        } else {
          inputsNote = "every input was finite"
        }
        anomalyFailure(
          "\(forwardPass) produced \(bad.kind) at element \(bad.index) of its output \(outputShape) "
            + "(inputs \(describe(inputShapes))); \(inputsNote)", site: site)
      }
    }
    return { upstream, graph in
      let upstreamNote =
        firstNonFinite(upstream) == nil
        ? "the upstream gradient was finite" : "the upstream gradient already held non-finite values"
      let gradients = pullback(upstream, graph)
      // With createGraph the gradients are the recorded tensors.
      let results = graph.map { ($0.gradients ?? []).map { $0?.storage } } ?? gradients
      for (index, gradient) in results.enumerated() {
        guard let gradient, let bad = firstNonFinite(gradient) else { continue }
        anomalyFailure(
          "\(backwardPass) produced \(bad.kind) at element \(bad.index) of the gradient for "
            + "input \(index) (inputs \(describe(inputShapes)), output \(outputShape)); \(upstreamNote)",
          site: site)
      }
      return gradients
    }
  }
}

/// The first element that is NaN or infinite, and which of the two it is.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func firstNonFinite<Scalar: TensorScalar>(_ values: Storage<Scalar>) -> (index: Int, kind: String)? {
  let base = values.buffer.base
  for i in 0..<values.count where !base[i].isFinite {
    return (i, base[i].isNaN ? "NaN" : (base[i] > 0 ? "inf" : "-inf"))
  }
  return nil
}

private func describe(_ shapes: [[Int]]) -> String {
  shapes.isEmpty ? "none" : shapes.map { "\($0)" }.joined(separator: ", ")
}

/// Stops with anomaly mode's message and the op's creation site.
private func anomalyFailure(_ problem: String, site: CreationSite) -> Never {
  fatalError(
    "anomaly detection: \(problem). The op was created at \(site.describe()). "
      + "Look there for a log, division or sqrt of a value out of its domain, an overflowing exp, "
      + "or a learning rate too large.", file: site.file, line: site.line)
}

/// Where an op was created in the user's code.
///
/// Ops that take `file:line` (most functions: `matmul`, `sum(axes:)`, `softmax(axis:)`…) pass the
/// caller's; the `#fileID` of a call inside the library itself starts with `Awesomegrad/`, which
/// means the op was called by an operator, a module or a composite. Then the site is the first frame
/// of the call stack, captured when the op ran, that is outside the library.
struct CreationSite {
  let file: StaticString
  let line: UInt
  /// Symbolicates the captured stack and returns its first frame outside the library.
  let stackFrame: (() -> String?)?

  init(file: StaticString, line: UInt) {
    self.file = file
    self.line = line
    self.stackFrame = Self.isInsideLibrary(file) ? Self.captureCaller() : nil
  }

  /// Whether `file` (a `#fileID`) is in the package's libraries: `Awesomegrad/`, and the libraries
  /// over it (`AwesomegradModels/`, `AwesomegradDatasets/`, …).
  static func isInsideLibrary(_ file: StaticString) -> Bool {
    let file = "\(file)"
    return libraryModules.contains { file.hasPrefix($0 + "/") }
  }

  /// The package's library modules, whose source folders are `Sources/<name>/`.
  static let libraryModules = [
    "Awesomegrad", "AwesomegradModels", "AwesomegradDatasets", "AwesomegradDistributed", "AwesomegradTokenizers",
  ]

  func describe() -> String {
    guard let stackFrame else { return "\(file):\(line)" }
    if let frame = stackFrame() { return frame }
    return "an unknown line (no frame outside Awesomegrad had a source location; "
      + "build with debug information, and call the op through a function that takes file:line); "
      + "inside the library at \(file):\(line)"
  }

  /// Captures the return addresses now (a few microseconds) and symbolicates them only when asked.
  static func captureCaller() -> (() -> String?)? {
    #if canImport(Runtime)
      if #available(macOS 26.0, *) {
        guard let backtrace = try? Backtrace.capture(limit: 48, top: 0, images: StackImages.shared.map)
        else { return nil }
        return { firstFrameOutsideLibrary(backtrace) }
      }
    #endif
    return nil
  }
}

#if canImport(Runtime)
  /// The loaded images, captured once: passing them to `Backtrace.capture` makes a capture cost
  /// microseconds instead of a walk over every loaded library.
  @available(macOS 26.0, *)
  final class StackImages: Sendable {
    static let shared = StackImages()
    let map = ImageMap.capture()
  }

  /// `file:line in function` of the first frame that is not Awesomegrad, the Swift runtime or the
  /// standard library, with the path made relative to the current directory when it lies below it.
  @available(macOS 26.0, *)
  func firstFrameOutsideLibrary(_ backtrace: Backtrace) -> String? {
    guard
      let symbolicated = backtrace.symbolicated(
        with: StackImages.shared.map, options: [.showInlineFrames, .showSourceLocations, .useSymbolCache])
    else { return nil }
    for frame in symbolicated.frames {
      guard let symbol = frame.symbol, let location = symbol.sourceLocation else { continue }
      if frame.isSystem || frame.isSwiftThunk || frame.isSwiftRuntimeFailure { continue }
      // The library's own source files (also when it is a dependency under .build/checkouts). Not
      // the mangled module name: a user's extension of Tensor mangles under Awesomegrad too.
      if CreationSite.libraryModules.contains(where: { location.path.contains("/Sources/\($0)/") })
        || symbol.rawName.hasPrefix("$s7Runtime")
      {
        continue
      }
      return "\(relativePath(location.path)):\(location.line) in \(symbol.name)"
    }
    return nil
  }

  /// `path` relative to the current directory when it lies below it.
  func relativePath(_ path: String) -> String {
    let current = FileManager.default.currentDirectoryPath + "/"
    return path.hasPrefix(current) ? String(path.dropFirst(current.count)) : path
  }
#endif
