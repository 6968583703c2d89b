import Testing

@testable import Awesomegrad

/// Every library module registers everything it stores: a stored tensor is a registered parameter or
/// buffer, and a stored module (alone or in an array) is a registered child. Reflection (`Mirror`)
/// is used here, in a test, to find what a module stores; the library itself never reflects.
@Suite struct RegistrationTests {
  /// The library's modules, built small. Add every new module type here.
  static func libraryModules() -> [Module<Double>] {
    var rng = SeededGenerator(seed: 0)
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
      BatchNorm1d(features: 3), BatchNorm2d(features: 3, affine: false),
    ]
  }

  @Test func everyStoredTensorAndModuleIsRegistered() {
    for module in Self.libraryModules() { checkRegistration(module) }
  }

  func checkRegistration(_ module: Module<Double>) {
    let registeredTensors = Set(
      module.namedParameters.map { ObjectIdentifier($0.tensor) }
        + module.namedBuffers.map { ObjectIdentifier($0.tensor) })
    let registeredModules = Set(module.namedModules.map { ObjectIdentifier($0.module) })
    let registeredIntegers = Set(module.namedIntegerBuffers.map { ObjectIdentifier($0.buffer) })
    for (owner, label, value) in storedValues(of: module) {
      switch value {
      case let tensor as Tensor<Double>:
        #expect(registeredTensors.contains(ObjectIdentifier(tensor)), "\(owner).\(label) is not registered")
      case let buffer as IntegerBuffer:
        #expect(registeredIntegers.contains(ObjectIdentifier(buffer)), "\(owner).\(label) is not registered")
      case let child as Module<Double>:
        #expect(registeredModules.contains(ObjectIdentifier(child)), "\(owner).\(label) is not registered")
      default: break
      }
    }
  }

  /// Parameters come in the same order with and without names.
  @Test func parametersMatchNamedParameters() {
    for module in Self.libraryModules() {
      #expect(
        module.parameters.map(ObjectIdentifier.init)
          == module.namedParameters.map { ObjectIdentifier($0.tensor) },
        "\(type(of: module))")
    }
  }

  /// Every tensor and module stored in `module` and, recursively, in its stored modules (arrays and
  /// optionals unwrapped), with the owner's type and the property name.
  func storedValues(of module: Module<Double>) -> [(String, String, Any)] {
    var result: [(String, String, Any)] = []
    var seen = Set<ObjectIdentifier>()
    func visit(_ m: Module<Double>) {
      guard seen.insert(ObjectIdentifier(m)).inserted else { return }
      var mirror: Mirror? = Mirror(reflecting: m)
      while let current = mirror {
        for child in current.children {
          for value in flatten(child.value) {
            result.append(("\(type(of: m))", child.label ?? "?", value))
            if let sub = value as? Module<Double> { visit(sub) }
          }
        }
        mirror = current.superclassMirror
      }
    }
    visit(module)
    return result
  }

  /// A value with optionals and arrays unwrapped into their elements.
  func flatten(_ value: Any) -> [Any] {
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .optional: return mirror.children.flatMap { flatten($0.value) }
    case .collection: return mirror.children.flatMap { flatten($0.value) }
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
