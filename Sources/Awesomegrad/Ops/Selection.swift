/// Choosing between values elementwise: `where`, `maskedFill`, `maximum`/`minimum`, `clamp`, and
/// the reductions `min` and `argmax`.
///
/// Each primitive's pullback routes the gradient to the value that was chosen; where two values tie
/// (`maximum(a, b)` with a = b), it is split evenly, as PyTorch does.
extension Tensor {
  /// `a` where `condition` is true, else `b`: PyTorch's `torch.where(condition, a, b)`. The three
  /// shapes broadcast against each other.
  ///
  /// ∂/∂a = g where the condition holds (else 0), ∂/∂b = g where it does not; each summed back over
  /// its broadcast axes.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func `where`(
    _ condition: MaskTensor, _ a: Tensor, _ b: Tensor, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    guard let ab = broadcastShape(a.shape, b.shape), let shape = broadcastShape(condition.shape, ab) else {
      shapeFailure(
        "where", "the condition and the two tensors do not broadcast",
        shapes: [condition.shape, a.shape, b.shape],
        file: file, line: line)
    }
    let flags = condition.broadcast(to: shape, op: "where", file: file, line: line).scalars
    let (aShape, bShape) = (a.shape, b.shape)
    let x = a.storage.expanded(to: shape), y = b.storage.expanded(to: shape)
    let out = Storage<Scalar>(uninitializedShape: shape)
    flags.withUnsafeBufferPointer { flags in
      CPU.select(flags, x.buffer.base, y.buffer.base, into: out.buffer.base)
    }
    let (needA, needB) = (a.requiresGrad, b.requiresGrad)
    return Tensor(out, op: "where", parents: [a, b], file: file, line: line) { g, graph in
      if let graph {
        let chooseA = Tensor(Storage<Scalar>(flags.map { $0 ? 1 : 0 }, shape: shape))
        return graph.record { g, _, _ in
          [needA ? (g * chooseA).summed(to: aShape) : nil, needB ? (g * (1 - chooseA)).summed(to: bShape) : nil]
        }
      }
      let ga = needA ? Storage<Scalar>(uninitializedShape: shape) : nil
      let gb = needB ? Storage<Scalar>(uninitializedShape: shape) : nil
      flags.withUnsafeBufferPointer { flags in
        if let ga { CPU.select(flags, keep: true, g.buffer.base, other: 0, into: ga.buffer.base) }
        if let gb {
          CPU.select(flags, keep: false, g.buffer.base, other: 0, into: gb.buffer.base)
        }
      }
      return [ga.map { unbroadcast($0, to: aShape) }, gb.map { unbroadcast($0, to: bShape) }]
    }
  }

  /// `value` where `mask` is true, else this tensor's element: PyTorch's `x.masked_fill(mask, value)`.
  /// The mask and the tensor broadcast against each other; an attention mask `[L, S]` fills every
  /// `[B, H, L, S]` score matrix.
  ///
  /// ∂/∂x = g where the mask is false, 0 where it is true.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func maskedFill(
    _ mask: MaskTensor, with value: Scalar, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    guard let shape = broadcastShape(self.shape, mask.shape) else {
      shapeFailure(
        "maskedFill", "the mask does not broadcast to the tensor", shapes: [self.shape, mask.shape],
        file: file,
        line: line)
    }
    let flags = mask.broadcast(to: shape, op: "maskedFill", file: file, line: line).scalars
    let inputShape = self.shape
    let x = storage.expanded(to: shape)
    let out = Storage<Scalar>(uninitializedShape: shape)
    flags.withUnsafeBufferPointer { flags in
      CPU.select(flags, keep: false, x.buffer.base, other: value, into: out.buffer.base)
    }
    return Tensor(out, op: "maskedFill", parents: [self], file: file, line: line) { g, graph in
      if let graph {
        let kept = Tensor(Storage<Scalar>(flags.map { $0 ? 0 : 1 }, shape: shape))
        return graph.record { g, _, _ in [(g * kept).summed(to: inputShape)] }
      }
      let grad = Storage<Scalar>(uninitializedShape: shape)
      flags.withUnsafeBufferPointer { flags in
        CPU.select(flags, keep: false, g.buffer.base, other: 0, into: grad.buffer.base)
      }
      return [unbroadcast(grad, to: inputShape)]
    }
  }

  /// The elementwise maximum of two tensors broadcast against each other: PyTorch's `torch.maximum`.
  ///
  /// ∂/∂a = g where a > b, g/2 where a = b, 0 where a < b; ∂/∂b likewise. A NaN in either input
  /// gives NaN.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    choosing(a, b, op: "maximum") { $0 > $1 }
  }

  /// The elementwise minimum of two tensors broadcast against each other: PyTorch's `torch.minimum`.
  /// Gradients as in ``maximum(_:_:)``, to the smaller value.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    choosing(a, b, op: "minimum") { $0 < $1 }
  }

  /// The elementwise choice of `a` or `b` by `prefers(a, b)` (ties split the gradient; NaN wins).
  @inline(__always)
  static func choosing(
    _ a: Tensor, _ b: Tensor, op: StaticString, _ prefers: @escaping (Scalar, Scalar) -> Bool
  ) -> Tensor {
    let (x, y) = (a.storage, b.storage)
    let out = Storage.broadcasting(x, y, op: "\(op)") { u, v in
      u.isNaN || v.isNaN ? .nan : (prefers(u, v) || u == v ? u : v)
    }
    let (needA, needB) = (a.requiresGrad, b.requiresGrad)
    return Tensor(out, op: op, parents: [a, b]) { g, graph in
      if let graph {
        let share = Tensor(Storage.broadcasting(x, y, op: "\(op)") { u, v in u == v ? 0.5 : (prefers(u, v) ? 1 : 0) })
        return graph.record { g, _, _ in
          [needA ? (g * share).summed(to: x.shape) : nil, needB ? (g * (1 - share)).summed(to: y.shape) : nil]
        }
      }
      // The share of g that goes to a: 1 where a is chosen, ½ on a tie, 0 where b is chosen.
      let share = Storage.broadcasting(x, y, op: "\(op)") { u, v in u == v ? 0.5 : (prefers(u, v) ? 1 : 0) }
      let ga = needA ? unbroadcast(share.zipSameShape(g, *), to: x.shape) : nil
      let gb = needB ? unbroadcast(share.zipSameShape(g) { s, g in (1 - s) * g }, to: y.shape) : nil
      return [ga, gb]
    }
  }

  /// Each element limited to `[min, max]` (either bound may be nil): PyTorch's `torch.clamp`. When
  /// `min > max`, every element becomes `max`, as in PyTorch.
  ///
  /// ∂/∂x = g where min ≤ x ≤ max (bounds included), else 0.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func clamped(
    min low: Scalar? = nil, max high: Scalar? = nil, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    let lo = low ?? -.infinity, hi = high ?? .infinity
    let x = storage
    let y = x.map { $0.isNaN ? $0 : Swift.min(Swift.max($0, lo), hi) }
    return Tensor(y, op: "clamp", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g * Tensor(x.map { $0 >= lo && $0 <= hi ? 1 : 0 })] } }
      return [g.zipSameShape(x) { g, x in x >= lo && x <= hi ? g : 0 }]
    }
  }

  /// The minimum over `axes` (all axes when nil), like PyTorch's `amin`: −max(−x). Ties share the
  /// gradient evenly, as in ``max(axes:keepingDimensions:file:line:)``.
  public func min(
    axes: [Int]? = nil, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> Tensor {
    -((-self).max(axes: axes, keepingDimensions: keepingDimensions, file: file, line: line))
  }

  /// The index of the largest element along `axis` (over all elements, in row-major order, when
  /// nil): PyTorch's `argmax`. The first index wins a tie; a NaN counts as the largest. Indices have
  /// no gradient.
  ///
  /// - Returns: the shape without `axis` (with it as size 1 when `keepingDimensions`); `[]` when `axis` is
  ///   nil and `keepingDimensions` is false.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func argmax(
    axis: Int? = nil, keepingDimensions: Bool = false, file: StaticString = #fileID, line: UInt = #line
  ) -> IndexTensor {
    guard let axis else {
      if count == 0 {
        shapeFailure(
          "argmax", "an empty tensor has no largest element", shapes: [shape], file: file, line: line)
      }
      let best = argmaxRun(storage.buffer.base, count: count, stride: 1)
      return IndexTensor([best], shape: keepingDimensions ? shape.map { _ in 1 } : [])
    }
    let a = normalizeAxis(axis, rank: rank, op: "argmax", shape: shape, file: file, line: line)
    let size = shape[a]
    if size == 0 {
      shapeFailure("argmax", "axis \(a) is empty", shapes: [shape], file: file, line: line)
    }
    let outer = elementCount(Array(shape[..<a])), inner = elementCount(Array(shape[(a + 1)...]))
    var result = [Int](repeating: 0, count: outer * inner)
    let base = storage.buffer.base
    for o in 0..<outer {
      for i in 0..<inner {
        result[o * inner + i] = argmaxRun(base + o * size * inner + i, count: size, stride: inner)
      }
    }
    var outShape = shape
    if keepingDimensions { outShape[a] = 1 } else { outShape.remove(at: a) }
    return IndexTensor(result, shape: outShape)
  }
}

/// The position of the largest of `count` values read `stride` apart: the first on a tie, the first
/// NaN if there is one.
@inline(__always)
func argmaxRun<Scalar: TensorScalar>(_ p: UnsafePointer<Scalar>, count: Int, stride: Int) -> Int {
  var best = 0
  var value = p[0]
  if value.isNaN { return 0 }
  for j in 1..<Swift.max(count, 1) {
    let v = p[j * stride]
    if v.isNaN { return j }
    if v > value {
      value = v
      best = j
    }
  }
  return best
}
