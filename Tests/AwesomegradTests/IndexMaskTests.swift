import Testing

@testable import Awesomegrad

/// IndexTensor and MaskTensor: shapes, broadcasting as PyTorch's bool masks do, comparisons, and
/// errors that name the op.
@Suite struct IndexMaskTests {
  @Test func indexTensorShapesAndNegativeIndices() {
    let tokens = IndexTensor([3, 1, 4, 1, 5, 9], shape: [2, 3])
    #expect(tokens.rank == 2 && tokens.count == 6)
    #expect(tokens.reshaped([3, -1]).shape == [3, 2])
    // Negative indices count from the end of the axis: −1 of a size-10 axis is 9.
    #expect(IndexTensor([-1, 0, 2]).resolved(against: 10, op: "test", file: #fileID, line: #line) == [9, 0, 2])
  }

  @Test func indexOutOfRangeNamesTheOp() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = IndexTensor([0, 12]).resolved(against: 10, op: "embedding", file: #fileID, line: #line)
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("embedding: index 12 is out of range for an axis of size 10"), "\(message)")
  }

  /// A [1, 3] mask broadcast to [2, 3] repeats its row; a [2, 1] mask its column.
  @Test func maskBroadcastsByNumpysRule() {
    let row = MaskTensor([true, false, true], shape: [1, 3])
    #expect(row.broadcast(to: [2, 3]).scalars == [true, false, true, true, false, true])
    let column = MaskTensor([true, false], shape: [2, 1])
    #expect(column.broadcast(to: [2, 3]).scalars == [true, true, true, false, false, false])
    #expect((row && column).scalars == [true, false, true, false, false, false])
    #expect((!row).scalars == [false, true, false])
  }

  @Test func maskThatDoesNotBroadcastNamesTheOp() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = MaskTensor([true, false, true]).broadcast(to: [2, 4], op: "maskedFill")
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("maskedFill: the mask does not broadcast"), "\(message)")
    #expect(message.contains("[3] and [2, 4]"), "\(message)")
  }

  /// The causal mask: position t sees 0…t.
  @Test func triangularMasks() {
    #expect(
      MaskTensor.lowerTriangular(rows: 3, columns: 3).scalars == [
        true, false, false, true, true, false, true, true, true,
      ])
    #expect(MaskTensor.upperTriangular(rows: 2, columns: 3, diagonal: 1).scalars == [false, true, true, false, false, true])
  }

  /// Comparisons broadcast and follow IEEE: NaN compares false except with .!=.
  @Test func comparisons() {
    let x = Tensor<Double>([-1, 0, 2, .nan], shape: [2, 2])
    #expect((x .> 0).scalars == [false, false, true, false])
    #expect((x .!= x).scalars == [false, false, false, true])
    #expect((x .<= Tensor([0, 1])).scalars == [true, true, false, false])
    #expect(Tensor<Float>(x .>= 0).scalars == [0, 1, 1, 0])
  }
}
