/// The op that made a ``Value``. One byte per node; the backward pass switches on it.
///
/// Only primitives are listed: `-x` is `x * -1`, `a - b` is `a + (-b)` and `a / b` is
/// `a * b.pow(-1)`, as in micrograd. A `…Constant` op has a `Double` operand stored in the node.
enum Op: UInt8 {
  /// An input or parameter: no inputs, nothing to propagate.
  case leaf
  /// `a + b`
  case add
  /// `a * b`
  case multiply
  /// `a + c` for a constant `c`
  case addConstant
  /// `a * c` for a constant `c`
  case multiplyConstant
  /// `aᶜ` for a constant exponent `c`
  case power
  /// `max(a, 0)`
  case relu
  /// `tanh(a)`
  case tanh
  /// `eᵃ`
  case exp
  /// `ln(a)`
  case log
  /// `1 / (1 + e⁻ᵃ)`, a primitive (rather than composed from exp and division) so that it is
  /// finite for every `a`.
  case sigmoid

  /// The name micrograd would print for the op.
  var symbol: String {
    switch self {
    case .leaf: ""
    case .add, .addConstant: "+"
    case .multiply, .multiplyConstant: "*"
    case .power: "**"
    case .relu: "ReLU"
    case .tanh: "tanh"
    case .exp: "exp"
    case .log: "log"
    case .sigmoid: "sigmoid"
    }
  }
}
