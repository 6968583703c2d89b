import Foundation
import Testing

@testable import Awesomegrad
@testable import AwesomegradModels

/// Every module type declared in the package's `Sources` registers everything it stores: a stored
/// tensor is a registered parameter or buffer, and a stored module is a registered child, whether it
/// is held directly or inside an optional, an array, a dictionary or a struct (such as a LoRA
/// adapter). Reflection (`Mirror`) is used here, in a test, to find what a module stores; the library
/// itself never reflects.
///
/// The list cannot go stale: ``everyDeclaredModuleTypeIsChecked()`` reads the package's sources and
/// fails for a class that derives from `Module` (directly or through another module class) that no
/// instance below reaches.
@Suite struct RegistrationTests {
  /// The library's modules in Double, built small, with each option that changes what they store.
  static func coreModules() -> [Module<Double>] {
    var rng = SeededGenerator(seed: 0)
    let initialization = GPTInitialization(.nanoGPT, layers: 1)
    return [
      Linear(inputs: 3, outputs: 2, using: &rng),
      Linear(inputs: 3, outputs: 2, bias: false, using: &rng),
      Sequential(Linear(inputs: 3, outputs: 2, using: &rng), ReLU()),
      MLP(inputs: 3, hiddenSizes: [4, 4], outputs: 2, using: &rng),
      ReLU(), Tanh(), Sigmoid(), GELU(),
      Dropout(probability: 0.1, using: &rng),
      Conv2d(inputChannels: 2, outputChannels: 4, kernelSize: 3, using: &rng),
      Conv1d(inputChannels: 2, outputChannels: 2, kernelSize: 3, bias: false, using: &rng),
      MaxPool2d(kernelSize: 2), AvgPool2d(kernelSize: 2), AdaptiveAvgPool2d(outputSize: 1), Flatten(),
      BatchNorm1d(features: 3), BatchNorm2d(features: 3, affine: false), BatchNorm1d(features: 3, momentum: nil),
      RMSNorm(dimensions: 4),
      Embedding(count: 5, dimensions: 4, using: &rng),
      LayerNorm(dimensions: 4), LayerNorm(dimensions: 4, bias: false),
      CausalSelfAttention(width: 4, heads: 2, initialization: initialization, using: &rng),
      FeedForward(width: 4, hidden: 8, initialization: initialization, using: &rng),
      TransformerBlock(width: 4, heads: 2, bias: false, initialization: initialization, using: &rng),
      GPT(GPTConfiguration(vocabularySize: 7, contextLength: 4, layers: 2, heads: 2, width: 4), using: &rng),
      GPT(
        GPTConfiguration(vocabularySize: 7, contextLength: 4, layers: 1, heads: 2, width: 4, tiesWeights: false),
        using: &rng),
    ]
  }

  /// The pretrained models' modules (AwesomegradModels, Float), tied and untied, with LoRA adapters.
  static func modelModules() -> [Module<Float>] {
    var rng = SeededGenerator(seed: 0)
    let gpt2 = GPT2Configuration(vocabularySize: 11, contextLength: 8, width: 4, layers: 1, heads: 2)
    var untiedGPT2 = gpt2
    untiedGPT2.tiesWordEmbeddings = false
    let llama = LlamaConfiguration(
      vocabularySize: 11, width: 4, intermediateSize: 8, layers: 1, heads: 2, keyValueHeads: 1, contextLength: 8,
      attentionBias: true)
    var tiedLlama = llama
    tiedLlama.tiesWordEmbeddings = true
    let adapted = Projection(weight: .zeros([3, 2]), bias: .zeros([2]), layout: .inputsByOutputs)
    adapted.addLoRA(rank: 1, alpha: 2, using: &rng)
    return [
      GPT2LanguageModel(gpt2), GPT2LanguageModel(untiedGPT2), LlamaLanguageModel(llama),
      LlamaLanguageModel(tiedLlama), adapted,
      Projection(weight: .zeros([2, 3]), bias: nil, layout: .outputsByInputs),
    ]
  }

  @Test func everyStoredTensorAndModuleIsRegistered() {
    for module in Self.coreModules() { checkRegistration(module) }
    for module in Self.modelModules() { checkRegistration(module) }
  }

  /// The class names of every module the lists reach (through stored properties, registered or
  /// not) and their superclasses, which is every type whose stored properties the test checks.
  static func checkedTypeNames() -> Set<String> {
    var names = Set<String>()
    func add<S: TensorScalar>(_ modules: [Module<S>]) {
      for root in modules {
        for module in [root] + storedValues(of: root).map(\.0) {
          var mirror: Mirror? = Mirror(reflecting: module)
          while let current = mirror {
            names.insert(baseName(current.subjectType))
            mirror = current.superclassMirror
          }
        }
      }
    }
    add(coreModules())
    add(modelModules())
    return names
  }

  /// A type's name without its module and generic arguments: `Linear<Double>` → `Linear`.
  static func baseName(_ type: Any.Type) -> String {
    let name = String(describing: type)
    return String(name.prefix { $0 != "<" })
  }

  /// Every class declared in the package's `Sources` (DocC catalogs and comments aside) that derives
  /// from `Module`, directly or through another such class, found by reading the source files
  /// (`class Name<…>: Superclass<…>`).
  static func declaredModuleTypes() throws -> Set<String> {
    let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
    let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
      .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" && !$0.path.contains(".docc/") }
    #expect(files.count > 50, "found \(files.count) source files under \(sources.path)")
    let declaration = try Regex(#"\bclass\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:<[^>{]*>)?\s*:\s*([A-Za-z_][A-Za-z0-9_]*)"#)
    var superclass: [String: String] = [:]
    for file in files {
      // Code only: a doc comment's example (`/// final class TwoLayer: Module<Float>`) is no type.
      let code = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
      for match in code.matches(of: declaration) {
        if let name = match.output[1].substring, let base = match.output[2].substring {
          superclass[String(name)] = String(base)
        }
      }
    }
    func derivesFromModule(_ name: String) -> Bool {
      var current = name
      for _ in 0..<20 {
        guard let base = superclass[current] else { return false }
        if base == "Module" { return true }
        current = base
      }
      return false
    }
    return Set(superclass.keys.filter(derivesFromModule))
  }

  /// The list above reaches every module type of the package: a new module type must be added to it
  /// (so its registrations are checked) or this test fails.
  @Test func everyDeclaredModuleTypeIsChecked() throws {
    let declared = try Self.declaredModuleTypes()
    #expect(declared.contains("Linear") && declared.contains("GPT2Block") && declared.contains("BatchNorm1d"))
    let unchecked = declared.subtracting(Self.checkedTypeNames())
    #expect(unchecked.isEmpty, "module types not in RegistrationTests' lists: \(unchecked.sorted())")
  }

  func checkRegistration<S: TensorScalar>(_ module: Module<S>) {
    let missing = Self.unregisteredParts(of: module)
    #expect(missing.isEmpty, "\(type(of: module)) stores parts it did not register: \(missing)")
  }

  /// `Owner.property` of every stored tensor, integer buffer or module of the tree that is not
  /// registered in it.
  static func unregisteredParts<S: TensorScalar>(of module: Module<S>) -> [String] {
    let registeredTensors = Set(
      module.namedParameters.map { ObjectIdentifier($0.tensor) }
        + module.namedBuffers.map { ObjectIdentifier($0.tensor) })
    let registeredModules = Set(module.namedModules.map { ObjectIdentifier($0.module) })
    let registeredIntegers = Set(module.namedIntegerBuffers.map { ObjectIdentifier($0.buffer) })
    var missing: [String] = []
    for (owner, label, value) in storedValues(of: module) {
      let registered: Bool
      switch value {
      case let tensor as Tensor<S>: registered = registeredTensors.contains(ObjectIdentifier(tensor))
      case let buffer as IntegerBuffer: registered = registeredIntegers.contains(ObjectIdentifier(buffer))
      case let child as Module<S>: registered = registeredModules.contains(ObjectIdentifier(child))
      default: registered = true
      }
      if !registered { missing.append("\(baseName(type(of: owner))).\(label)") }
    }
    return missing
  }

  /// The check itself finds parts hidden in an optional, a dictionary and a struct.
  @Test func unregisteredPartsAreFound() {
    struct Adapter { let down: Linear<Double> }
    final class Forgetful: Module<Double> {
      let scale: Tensor<Double>? = .ones([2])
      let heads: [String: Linear<Double>]
      let adapter: Adapter
      let kept: Linear<Double>
      init(using rng: inout SeededGenerator) {
        heads = ["a": Linear(inputs: 2, outputs: 2, using: &rng)]
        adapter = Adapter(down: Linear(inputs: 2, outputs: 1, using: &rng))
        kept = Linear(inputs: 2, outputs: 2, using: &rng)
        super.init()
        register("kept", kept)
      }
    }
    var rng = SeededGenerator(seed: 0)
    let missing = Self.unregisteredParts(of: Forgetful(using: &rng))
    // The unregistered linear layers' own weights and biases are missing from the tree too.
    #expect(missing.filter { $0.hasPrefix("Forgetful.") } == ["Forgetful.scale", "Forgetful.heads", "Forgetful.adapter"])
    #expect(missing.filter { $0.hasPrefix("Linear.") }.count == 4)
  }

  /// Parameters come in the same order with and without names.
  @Test func parametersMatchNamedParameters() {
    func check<S: TensorScalar>(_ modules: [Module<S>]) {
      for module in modules {
        #expect(
          module.parameters.map(ObjectIdentifier.init)
            == module.namedParameters.map { ObjectIdentifier($0.tensor) },
          "\(type(of: module))")
      }
    }
    check(Self.coreModules())
    check(Self.modelModules())
  }

  /// Every tensor, integer buffer and module stored in `module` and, recursively, in its stored
  /// modules, with the owning module and the property name. Values are unwrapped through
  /// optionals, arrays, dictionaries, sets, tuples, structs and enums; other classes are not entered.
  static func storedValues<S: TensorScalar>(of module: Module<S>) -> [(Module<S>, String, Any)] {
    var result: [(Module<S>, String, Any)] = []
    var seen = Set<ObjectIdentifier>()
    func visit(_ m: Module<S>) {
      guard seen.insert(ObjectIdentifier(m)).inserted else { return }
      var mirror: Mirror? = Mirror(reflecting: m)
      // Module's own storage (the registrations) is where parts go, not a part.
      while let current = mirror, current.subjectType != Module<S>.self {
        for child in current.children {
          for value in parts(of: child.value) {
            result.append((m, child.label ?? "?", value))
            if let sub = value as? Module<S> { visit(sub) }
          }
        }
        mirror = current.superclassMirror
      }
    }
    visit(module)
    return result.filter { $0.2 is Tensor<S> || $0.2 is IntegerBuffer || $0.2 is Module<S> }
  }

  /// The tensors, integer buffers and modules inside a stored value.
  static func parts(of value: Any) -> [Any] {
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .class: return [value]
    case .optional, .collection, .dictionary, .set, .tuple, .struct, .enum:
      return mirror.children.flatMap { parts(of: $0.value) }
    default: return [value]
    }
  }
}

/// The parameter cache sees a registration made after it was filled, and holds no cycle.
@Suite struct ParameterCacheTests {
  @Test func lateRegistrationIsSeenAndModulesAreFreed() {
    weak var freed: Module<Double>?
    do {
      var rng = SeededGenerator(seed: 0)
      let inner = Sequential<Double>(Linear(inputs: 2, outputs: 2, using: &rng))
      let outer = Sequential<Double>(inner)
      #expect(outer.parameters.count == 2)
      inner.registerParameter("extra", Tensor.zeros([3]))
      #expect(outer.parameters.count == 3)
      freed = outer
    }
    #expect(freed == nil)
  }
}
