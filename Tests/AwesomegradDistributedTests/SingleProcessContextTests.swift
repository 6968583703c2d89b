import Awesomegrad
import AwesomegradDistributed
import Testing

/// Without a launcher the context is rank 0 of 1 and runs no MPI: the same training code works
/// unchanged in one process.
@Suite struct SingleProcessContextTests {
  @Test func isRankZeroOfOne() throws {
    let context = try Distributed.initialize(.singleProcess)
    #expect(context.rank == 0 && context.size == 1 && context.localRank == 0 && context.localSize == 1)
    #expect(context.isRoot && !context.usesMPI)
    #expect(context.onRankZero { 42 } == 42)
  }

  /// With one rank the mean over ranks of g is g: gradients and values are left untouched.
  @Test func collectivesAreTheIdentity() throws {
    let context = try Distributed.initialize(.singleProcess)
    let w = Tensor<Double>([1, -2, 3]).requireGrad()
    (w * w).sum().backward()  // ∂/∂w Σ w² = 2w
    try context.broadcastParameters(of: [w])
    try context.averageGradients(of: [w])
    try context.barrier()
    #expect(w.scalars == [1, -2, 3])
    #expect(w.grad!.scalars == [2, -4, 6])
    #expect(try context.allreduce([1.5, 2], .sum) == [1.5, 2])
    #expect(context.statistics == CommunicationStatistics())
  }

  @Test func badArgumentsAndUseAfterFinalizeAreTypedErrors() throws {
    let context = try Distributed.initialize(.singleProcess)
    #expect(throws: DistributedError.self) {
      try context.broadcastParameters(of: [Tensor<Float>]([]), root: 1)
    }
    try context.finalize()
    #expect(
      throws: DistributedError.invalidUse(
        call: "barrier", detail: "the context was finalized; make every collective call before finalize()")
    ) { try context.barrier() }
    #expect(throws: DistributedError.self) { try Distributed.initialize(.singleProcess, timeout: .zero) }
  }
}
