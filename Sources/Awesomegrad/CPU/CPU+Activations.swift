import AwesomegradKernels

/// The exact GELU's Float kernels, in C for this CPU's instruction set (``VectorKernels``), split over
/// the pool in pieces: each element's value does not depend on the split.
extension CPU {
  /// y = x·Φ(x) = ½x(1 + erf(x/√2)) over `count` Floats: ``Swift/Float/rationalErf(_:)`` in the C
  /// kernel of this CPU's instruction set, the same bits as the scalar formula.
  static func exactGELUForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    parallelFor(0..<count, grain: transcendentalGrain) { piece in
      awesomegrad_gelu_exact_forward_f32(
        VectorKernels.instructionSet, x + piece.lowerBound, y + piece.lowerBound, piece.count)
    }
  }

  /// out = g·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π): the exact GELU's pullback over `count` Floats.
  static func exactGELUBackward(
    _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int
  ) {
    parallelFor(0..<count, grain: transcendentalGrain) { piece in
      let i = piece.lowerBound
      awesomegrad_gelu_exact_backward_f32(VectorKernels.instructionSet, g + i, x + i, out + i, piece.count)
    }
  }
}
