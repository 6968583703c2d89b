extension Value {
  /// How a ``Value`` was made: the op and its inputs, in one enum of 16 bytes (the case tag fits in
  /// spare bits of the first input). The backward pass is one `switch` over it (see
  /// `Value+Backward.swift`).
  ///
  /// Only primitives are listed: `-x` is `x * -1`, `a - b` is `a + (-b)` and `a / b` is
  /// `a * b.pow(-1)`, as in micrograd. A `Double` operand (`x + 2`, `x * 3`, `x.pow(2)`) is stored
  /// here rather than wrapped in a leaf `Value` as micrograd does; its gradient would be discarded.
  ///
  /// ## Ownership
  /// The inputs are `Unmanaged` references that the node owns: each is retained once when the node
  /// is made (``Value/init(_:_:)``) and released once when the node is freed (`deinit`). This is
  /// what a strong reference does, done by hand for two reasons: the backward pass can read the
  /// inputs without any reference counting, and `deinit` can free a chain of a million nodes with
  /// a loop instead of a million nested `deinit`s.
  enum Origin {
    /// An input or a parameter.
    case leaf
    /// `a + b`
    case add(Unmanaged<Value>, Unmanaged<Value>)
    /// `a · b`
    case multiply(Unmanaged<Value>, Unmanaged<Value>)
    /// `a + c` for a constant `c`
    case addConstant(Unmanaged<Value>, Double)
    /// `a · c` for a constant `c`
    case multiplyConstant(Unmanaged<Value>, Double)
    /// `aᶜ` for a constant exponent `c`
    case power(Unmanaged<Value>, Double)
    /// `max(a, 0)`
    case relu(Unmanaged<Value>)
    /// `tanh(a)`
    case tanh(Unmanaged<Value>)
    /// `eᵃ`
    case exp(Unmanaged<Value>)
    /// `ln(a)`
    case log(Unmanaged<Value>)
    /// `1 / (1 + e⁻ᵃ)`: a primitive (not composed from exp and division) so that it and its
    /// derivative are finite for every `a`.
    case sigmoid(Unmanaged<Value>)

    /// The inputs, first and second (both nil for a leaf, the second nil for a unary op).
    @inline(__always)
    var inputs: (first: Unmanaged<Value>?, second: Unmanaged<Value>?) {
      switch self {
      case .leaf: (nil, nil)
      case .add(let a, let b), .multiply(let a, let b): (a, b)
      case .addConstant(let a, _), .multiplyConstant(let a, _), .power(let a, _): (a, nil)
      case .relu(let a), .tanh(let a), .exp(let a), .log(let a), .sigmoid(let a): (a, nil)
      }
    }

    /// The name micrograd gives the op (its `_op`); `""` for a leaf.
    var symbol: String {
      switch self {
      case .leaf: ""
      case .add, .addConstant: "+"
      case .multiply, .multiplyConstant: "*"
      case .power(_, let c): "**\(c)"
      case .relu: "ReLU"
      case .tanh: "tanh"
      case .exp: "exp"
      case .log: "log"
      case .sigmoid: "sigmoid"
      }
    }

    var isLeaf: Bool {
      if case .leaf = self { true } else { false }
    }
  }
}
