import Foundation

/// `print(model)`: the module tree as PyTorch prints it.
///
/// ```
/// MLP(
///   (layers): Sequential(
///     (0): Linear(in_features=784, out_features=256, bias=True)
///     (1): ReLU()
///     (2): Linear(in_features=256, out_features=10, bias=True)
///   )
/// )
/// ```
///
/// A module shows its type without the scalar type, then its hyperparameters (its
/// ``ModuleHyperparameters/extraDescription``, PyTorch's `extra_repr`) and its registered children,
/// one per line, indented.
extension Module: CustomStringConvertible {
  /// The nested description of this module and its children.
  public var description: String {
    let extra = (self as? any ModuleHyperparameters)?.extraDescription ?? ""
    let children = self.children
    if children.isEmpty { return "\(moduleTypeName)(\(extra))" }
    var lines: [String] = []
    if !extra.isEmpty { lines.append(extra) }
    for (name, child) in children {
      lines.append("(\(name)): \(child.description)")
    }
    let body = lines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false)
      .map { "  " + $0 }.joined(separator: "\n")
    return "\(moduleTypeName)(\n\(body)\n)"
  }

  /// The class name without its generic arguments: `Linear`, not `Linear<Float>`.
  public var moduleTypeName: String {
    let full = "\(type(of: self))"
    return full.firstIndex(of: "<").map { String(full[..<$0]) } ?? full
  }
}

/// A module that shows its hyperparameters in ``Module/description``, as PyTorch's `extra_repr`:
/// `Linear(in_features=784, out_features=256, bias=True)`.
///
/// Swift cannot override a member that an extension adds, so the hook is a protocol: conform your
/// module to it and return the text that goes between the parentheses.
///
/// ```swift
/// extension Residual: ModuleHyperparameters {
///   var extraDescription: String { "scale=\(scale)" }
/// }
/// ```
public protocol ModuleHyperparameters: AnyObject {
  /// The hyperparameters, as PyTorch's `extra_repr()` returns them: `key=value, …`.
  var extraDescription: String { get }
}

/// Python's spelling of a Bool, as PyTorch prints it.
func pythonBool(_ flag: Bool) -> String { flag ? "True" : "False" }

extension Linear: ModuleHyperparameters {
  /// `in_features=784, out_features=256, bias=True`.
  public var extraDescription: String {
    "in_features=\(inputs), out_features=\(outputs), bias=\(pythonBool(bias != nil))"
  }
}

extension Dropout: ModuleHyperparameters {
  /// `p=0.1`.
  public var extraDescription: String { "p=\(probability)" }
}

extension GELU: ModuleHyperparameters {
  /// `approximate='tanh'`.
  public var extraDescription: String { "approximate='tanh'" }
}

extension Embedding: ModuleHyperparameters {
  /// `256, 128`: the number of embeddings and their width, as PyTorch prints `nn.Embedding`.
  public var extraDescription: String { "\(weight.shape[0]), \(weight.shape[1])" }
}

extension LayerNorm: ModuleHyperparameters {
  /// `(128,), eps=1e-05, elementwise_affine=True`.
  public var extraDescription: String {
    let shape =
      normalizedShape.count == 1
      ? "(\(normalizedShape[0]),)" : "(\(normalizedShape.map(String.init).joined(separator: ", ")))"
    return "\(shape), eps=\(pythonFloat(eps)), elementwise_affine=True"
  }
}

/// A Double as Python prints small floats in PyTorch's reprs: `1e-05`, `0.1`.
func pythonFloat(_ x: Double) -> String {
  if x != 0 && Swift.abs(x) < 1e-4 {
    let exponent = Int((Swift.abs(x)).exponentBase10)
    let mantissa = x / pow(10, Double(exponent))
    let m = mantissa == mantissa.rounded() ? "\(Int(mantissa))" : "\(mantissa)"
    return "\(m)e-\(String(format: "%02d", -exponent))"
  }
  return "\(x)"
}

extension Double {
  /// ⌊log₁₀ |x|⌋.
  fileprivate var exponentBase10: Double { Foundation.log10(self).rounded(.down) }
}
