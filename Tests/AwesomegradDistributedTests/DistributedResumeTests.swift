import Foundation
import TestSupport
import Testing

/// `mpirun -np 2 fashion-mnist --distributed --model cnn --checkpoint-dir D`: when a rank dies the job
/// ends, and the same command resumes from the last checkpoint; when one rank alone gets SIGTERM,
/// the ranks agree on the step, rank 0 writes its checkpoint, and every rank exits with status 0.
/// Either way the job ends with the same model as an uninterrupted one. 64 training images of the
/// tiny look-alike data set, two epochs of four global batches (8 per rank).
@Suite(.serialized) struct DistributedResumeTests {
  @Test func twoRanksResumeAfterAKilledRankAndAfterSIGTERM() throws {
    let mpirun = try #require(
      MPIEquivalenceTests.findInPath("mpirun"), "mpirun not found: install Open MPI (openmpi-bin)")
    let fashion = try #require(
      ExampleProcess.executable("fashion-mnist"), "fashion-mnist is not built next to the tests")
    let folder = try ExampleProcess.scratch("ddp-resume")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try ExampleProcess.writeTinyFashionMNIST(to: folder, trainCount: 64, testCount: 16)
    func job(_ name: String, every: Int) -> [String] {
      ["-np", "2"] + MPIEquivalenceTests.mpirunArguments + [
        fashion.path, "--distributed", "--data", folder, "--model", "cnn", "--epochs", "2", "--batch-size",
        "8",
        "--threads", "1", "--checkpoint-every", "\(every)", "--checkpoint-dir", "\(folder)/\(name)",
        "--save", "\(folder)/\(name).safetensors",
      ]
    }
    func model(_ name: String) throws -> Data {
      try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name).safetensors"))
    }
    let reference = try ExampleProcess.run(mpirun, job("reference", every: 2), in: folder, label: "reference")
    #expect(reference.process.terminationStatus == 0, "\(reference.output)\(reference.errors)")

    // A rank killed just after the checkpoint of step 2: mpirun ends the job; the same command resumes.
    let killed = try ExampleProcess(mpirun, job("killed", every: 2), in: folder, label: "killed")
    killed.wait(until: {
      FileManager.default.fileExists(atPath: folder + "/killed/step-000000002.safetensors")
    })
    let ranks = Self.children(of: killed.process.processIdentifier)
    #expect(ranks.count == 2, "ranks: \(ranks)")
    if let rank = ranks.last { kill(rank, SIGKILL) }
    killed.wait(deadline: 120)
    #expect(killed.process.terminationStatus != 0, "the job ended before a rank was killed")
    let restarted = try ExampleProcess.run(mpirun, job("killed", every: 2), in: folder, label: "restarted")
    #expect(restarted.process.terminationStatus == 0, "\(restarted.output)\(restarted.errors)")
    #expect(restarted.errors.contains("resumed from step "), "\(restarted.errors)")
    #expect(try model("killed") == model("reference"))

    // SIGTERM to one rank after the first epoch (four steps): both stop at the same step.
    let stopped = try ExampleProcess(mpirun, job("stopped", every: 1000), in: folder, label: "stopped")
    stopped.wait(until: { stopped.output.contains("epoch 1 ") })
    let stoppedRanks = Self.children(of: stopped.process.processIdentifier)
    if let rank = stoppedRanks.last { kill(rank, SIGTERM) }
    #expect(stopped.wait(deadline: 60))
    #expect(stopped.process.terminationStatus == 0, "\(stopped.output)\(stopped.errors)")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/stopped")) ?? []
    #expect(files.count == 1, "\(files)")
    #expect(stopped.errors.components(separatedBy: "stopped at step ").count == 2, "\(stopped.errors)")
    let resumed = try ExampleProcess.run(mpirun, job("stopped", every: 1000), in: folder, label: "resumed")
    #expect(resumed.process.terminationStatus == 0, "\(resumed.output)\(resumed.errors)")
    #expect(resumed.errors.contains("resumed from step "), "\(resumed.errors)")
    #expect(try model("stopped") == model("reference"))
  }

  /// The processes whose parent is `pid` (mpirun's ranks), by `pgrep -P`.
  static func children(of pid: Int32) -> [Int32] {
    guard let pgrep = MPIEquivalenceTests.findInPath("pgrep") else { return [] }
    let process = Process()
    process.executableURL = pgrep
    process.arguments = ["-P", "\(pid)"]
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return [] }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }.sorted()
  }
}
