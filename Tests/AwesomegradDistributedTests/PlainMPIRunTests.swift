import Foundation
import Testing

/// A plain `mpirun -np 2 program`, without MCA flags: Distributed.initialize chooses the transport
/// itself (shared memory, no CMA, a bandwidth-optimal allreduce, no default core binding), and a
/// user's `--mca` or `-x OMPI_MCA_…` wins over it.
@Suite(.serialized) struct PlainMPIRunTests {
  /// `mpirun -np 2 --oversubscribe` (a 1-core machine can run it too) plus `arguments`, then ddp-check's.
  func ddpCheck(mpirun arguments: [String], _ tool: [String]) throws -> MPIEquivalenceTests.Run {
    let mpirun = try #require(
      MPIEquivalenceTests.findInPath("mpirun"), "mpirun not found: run scripts/install-deps")
    let ddpCheck = try #require(
      MPIEquivalenceTests.findDDPCheck(), "the ddp-check executable is not next to the test bundle")
    var environment = ProcessInfo.processInfo.environment
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    for name in environment.keys where name.hasPrefix("OMPI_MCA_") { environment[name] = nil }
    return try MPIEquivalenceTests.run(
      mpirun, ["-np", "2", "--oversubscribe", "--timeout", "240"] + arguments + [ddpCheck.path] + tool,
      environment: environment, deadline: 300)
  }

  /// rank 0's `--show-transport` object: name → (value, origin).
  func transport(mpirun arguments: [String]) throws -> [String: (value: String, origin: String)] {
    let run = try ddpCheck(mpirun: arguments, ["--show-transport"])
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("{") }, "\(run.stdout)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    let settings = try #require(object["settings"] as? [String: [String: String]])
    return settings.compactMapValues { entry in
      entry["value"].flatMap { v in entry["origin"].map { (v, $0) } }
    }
  }

  @Test func withoutFlagsTheLibraryChoosesTheTransport() throws {
    let settings = try transport(mpirun: [])
    #expect(settings["btl"]?.value == "self,vader" && settings["btl"]?.origin == "awesomegrad")
    #expect(settings["pml"]?.value == "ob1" && settings["pml"]?.origin == "awesomegrad")
    #expect(settings["btl_vader_single_copy_mechanism"]?.origin == "awesomegrad")
    #expect(settings["coll_libnbc_iallreduce_algorithm"]?.value == "rabenseifner")
    // mpirun binds 2 ranks to a core each where the machine has 2 cores or more (then the library undoes
    // it), and binds nothing when it oversubscribes: either way no rank is left bound.
    #expect(["awesomegrad", "open-mpi-default"].contains(settings["binding"]?.origin ?? ""), "\(settings)")
    #expect(settings["threads"]?.origin == "awesomegrad")
  }

  @Test func theUsersMCASettingsWin() throws {
    let settings = try transport(mpirun: [
      "--mca", "btl", "self,vader,tcp", "-x", "OMPI_MCA_btl_vader_single_copy_mechanism=cma", "--bind-to",
      "none",
    ])
    #expect(settings["btl"]?.value == "self,vader,tcp" && settings["btl"]?.origin == "environment")
    #expect(settings["btl_vader_single_copy_mechanism"]?.value == "cma")
    #expect(settings["btl_vader_single_copy_mechanism"]?.origin == "environment")
    #expect(settings["binding"]?.origin == "environment")
    #expect(settings["pml"]?.origin == "awesomegrad")  // what the user left unsaid is still chosen
  }

  /// The equivalence checks pass under the chosen transport as under the explicit flags.
  @Test func plainMPIRunTrainsAsOneProcess() throws {
    let run = try ddpCheck(mpirun: [], [])
    #expect(run.status == 0, "ddp-check failed:\n\(run.stdout)\n\(run.stderr)")
    let rows = try run.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
      .map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(rows.map { $0["check"] as? String } == MPIEquivalenceTests.checkNames)
    for row in rows {
      #expect((row["max_abs_difference"] as? Double ?? 1) <= 1e-12, "\(row)")
      #expect(row["rank_spread"] as? Double == 0, "\(row)")
    }
  }
}
