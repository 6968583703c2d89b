import Awesomegrad
import Testing

/// Programmer errors stop the process with a message that names the op, the shapes and the caller's
/// file and line. Exit tests run each body in a child process and capture its standard error.
@Suite struct ErrorTests {
  /// The text the child wrote to standard error.
  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  @Test func matmulShapeMismatchNamesOpShapesAndCaller() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let a = Tensor<Double>.zeros([2, 3]), b = Tensor<Double>.zeros([4, 5])
      _ = a.matmul(b)
    }
    let message = Self.standardError(result)
    #expect(message.contains("matmul: inner dimensions differ (3 vs 4)"), "\(message)")
    #expect(message.contains("shapes [2, 3] and [4, 5]"), "\(message)")
    #expect(message.contains("ErrorTests.swift:"), "\(message)")
  }

  @Test func invalidAxisNamesOpShapeAndCaller() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.ones([3, 4]).sum(axes: [2])
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("sum: axis 2 is out of range for a tensor of rank 2; shape [3, 4]"), "\(message)")
    #expect(message.contains("ErrorTests.swift:"), "\(message)")
  }

  /// A scalar has no axis 0: reducing over it is an axis error, not an index-out-of-range trap.
  @Test func axisOfScalarIsOutOfRange() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>(scalar: 1).sum(axes: [0])
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("sum: axis 0 is out of range for a tensor of rank 0; shape []"), "\(message)")
  }

  /// A shape whose element count overflows Int (2³² · 2³² = 2⁶⁴ wraps to 0) must stop, not allocate
  /// an empty buffer that the kernels would then index by the shape's sizes.
  @Test func overflowingShapeStops() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor<Float>.zeros([1 << 32, 1 << 32])
    }
  }

  /// A negative size stops: [−1, −1] would otherwise count 1 element.
  @Test func negativeSizeStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.zeros([-1, -1])
    }
    let message = Self.standardError(result)
    #expect(message.contains("shape [-1, -1] has a negative size"), "\(message)")
  }

  @Test func broadcastMismatchNamesOpAndShapes() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.ones([3, 4]) + Tensor<Float>.ones([3])
    }
    let message = Self.standardError(result)
    #expect(message.contains("add: shapes do not broadcast; shapes [3, 4] and [3]"), "\(message)")
  }

  @Test func concatenationMismatchNamesOpAndShapes() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.concatenated([Tensor<Float>.ones([2, 3]), Tensor<Float>.ones([3, 3])], axis: 1)
    }
    let message = Self.standardError(result)
    #expect(
      message.contains("concatenated: shapes must agree on every axis but 1; shapes [2, 3] and [3, 3]"),
      "\(message)")
    #expect(message.contains("ErrorTests.swift:"), "\(message)")
  }

  @Test func sliceOutOfRangeNamesOpAndShape() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor<Float>.ones([3, 4]).sliced(axis: 1, start: 2, end: 7)
    }
    let message = Self.standardError(result)
    #expect(message.contains("sliced: range 2..<7 is outside 0..<4 along axis 1; shape [3, 4]"), "\(message)")
  }
}
