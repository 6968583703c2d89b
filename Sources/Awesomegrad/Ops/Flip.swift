/// Reversing the order of elements along axes.
extension Tensor {
  /// The elements in reverse order along each of `axes`: PyTorch's `torch.flip`.
  ///
  /// ∂/∂x is the gradient flipped along the same axes.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func flipped(axes: [Int], file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    let resolved = normalizeAxes(axes, rank: rank, op: "flipped", shape: shape, file: file, line: line)
    let inputShape = shape
    return Tensor(storage.flipped(resolved), op: "flipped", parents: [self], file: file, line: line) { g, graph in
      if let graph { return graph.record { g, _, _ in [g.reshaped(inputShape).flipped(axes: resolved)] } }
      return [g.reshaped(inputShape).flipped(resolved)]
    }
  }
}

extension Storage {
  /// The elements reversed along `axes` (valid, sorted): a strided read that starts at the far end
  /// of each flipped axis and walks it with a negative stride.
  func flipped(_ axes: [Int]) -> Storage {
    if axes.isEmpty || count == 0 { return copy() }
    var strides = contiguousStrides(shape)
    var start = 0
    for axis in axes {
      start += (shape[axis] - 1) * strides[axis]
      strides[axis] = -strides[axis]
    }
    let out = Storage(uninitializedShape: shape)
    let src = buffer.base + start, dst = out.buffer.base
    if shape.isEmpty {
      dst[0] = src[0]
      return out
    }
    CPU.gather(src, strides: strides, into: dst, shape: shape)
    return out
  }
}
