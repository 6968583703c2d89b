import Foundation
import Testing

@testable import AwesomegradDistributed

/// The transport Distributed.initialize chooses before MPI_Init, as a pure function of the rank's
/// environment and Open MPI's parameter files: Awesomegrad's values where the user set nothing, the
/// user's always otherwise.
@Suite struct TransportDefaultsTests {
  /// What mpirun puts in the environment of rank 0 of 2 on one host, bound by default.
  static let oneHostBound = [
    "OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_SIZE": "2", "OMPI_MCA_orte_bound_at_launch": "1",
  ]

  func setting(_ plan: TransportDefaults.Plan, _ name: String) -> TransportSetting? {
    plan.settings.first { $0.name == name }
  }

  @Test func oneHostWithoutSettingsGetsSharedMemoryAndNoBinding() {
    let plan = TransportDefaults.plan(environment: Self.oneHostBound, fileValues: [:])
    #expect(
      plan.environment == [
        "OMPI_MCA_btl": "self,vader", "OMPI_MCA_pml": "ob1",
        "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
        "OMPI_MCA_coll_libnbc_iallreduce_algorithm": "rabenseifner",
      ])
    #expect(plan.widenAffinity)
    #expect(plan.settings.map(\.origin).allSatisfy { $0 == .awesomegrad })
    #expect(
      plan.settings.map(\.name) == [
        "btl", "pml", "btl_vader_single_copy_mechanism", "coll_libnbc_iallreduce_algorithm", "binding",
      ])
  }

  /// `mpirun --mca btl tcp,self` reaches the rank as OMPI_MCA_btl: it is kept, and reported as the user's.
  @Test func theUsersEnvironmentWins() {
    var environment = Self.oneHostBound
    environment["OMPI_MCA_btl"] = "tcp,self"
    environment["OMPI_MCA_coll_libnbc_iallreduce_algorithm"] = "ring"
    let plan = TransportDefaults.plan(environment: environment, fileValues: [:])
    #expect(plan.environment["OMPI_MCA_btl"] == nil)
    #expect(plan.environment["OMPI_MCA_coll_libnbc_iallreduce_algorithm"] == nil)
    #expect(setting(plan, "btl") == TransportSetting(name: "btl", value: "tcp,self", origin: .environment))
    #expect(setting(plan, "coll_libnbc_iallreduce_algorithm")?.origin == .environment)
    #expect(plan.environment["OMPI_MCA_pml"] == "ob1")  // the others still apply
  }

  /// A parameter file's inclusive value wins; an exclusion list that leaves Awesomegrad's components
  /// allowed (Debian ships `btl = ^uct,openib,ofi`) does not stand in its way; one that excludes them
  /// does.
  @Test func parameterFilesWinUnlessTheyOnlyExcludeOtherComponents() {
    let plan = TransportDefaults.plan(
      environment: Self.oneHostBound,
      fileValues: ["btl": "^uct,openib,ofi", "pml": "cm", "btl_vader_single_copy_mechanism": "cma"])
    #expect(plan.environment["OMPI_MCA_btl"] == "self,vader")
    #expect(setting(plan, "pml") == TransportSetting(name: "pml", value: "cm", origin: .parameterFile))
    #expect(setting(plan, "btl_vader_single_copy_mechanism")?.origin == .parameterFile)
    let excluding = TransportDefaults.plan(environment: Self.oneHostBound, fileValues: ["btl": "^vader"])
    #expect(excluding.environment["OMPI_MCA_btl"] == nil)
    #expect(
      setting(excluding, "btl") == TransportSetting(name: "btl", value: "^vader", origin: .parameterFile))
  }

  /// With ranks on several hosts the network is Open MPI's choice: no btl or pml is set.
  @Test func severalHostsKeepOpenMPIsNetworkChoice() {
    let plan = TransportDefaults.plan(
      environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_SIZE": "1"], fileValues: [:])
    #expect(plan.environment["OMPI_MCA_btl"] == nil && plan.environment["OMPI_MCA_pml"] == nil)
    #expect(setting(plan, "btl")?.origin == .openMPIDefault)
    #expect(plan.environment["OMPI_MCA_btl_vader_single_copy_mechanism"] == "none")
    #expect(
      setting(plan, "binding") == TransportSetting(name: "binding", value: "none", origin: .openMPIDefault))
    #expect(!plan.widenAffinity)
  }

  /// `--bind-to`, `--cpu-set` and `--map-by …:PE=n` keep mpirun's binding; `--map-by node` alone does not.
  @Test func aBindingTheUserChoseIsKept() {
    for (name, value) in [
      ("hwloc_base_binding_policy", "core"), ("hwloc_base_cpu_set", "1"),
      ("rmaps_base_mapping_policy", "core:PE=2"),
    ] {
      var environment = Self.oneHostBound
      environment["OMPI_MCA_\(name)"] = value
      let plan = TransportDefaults.plan(environment: environment, fileValues: [:])
      #expect(!plan.widenAffinity, "\(name)=\(value)")
      #expect(setting(plan, "binding")?.origin == .environment, "\(name)=\(value)")
    }
    var mapped = Self.oneHostBound
    mapped["OMPI_MCA_rmaps_base_mapping_policy"] = "node"
    #expect(TransportDefaults.plan(environment: mapped, fileValues: [:]).widenAffinity)
    let fromFile = TransportDefaults.plan(
      environment: Self.oneHostBound, fileValues: ["hwloc_base_binding_policy": "socket"])
    #expect(!fromFile.widenAffinity && setting(fromFile, "binding")?.origin == .parameterFile)
  }

  /// Without Open MPI's mpirun (no OMPI_COMM_WORLD_SIZE: a singleton, or another launcher) nothing is
  /// chosen.
  @Test func nothingIsChosenOutsideMPIRun() {
    #expect(
      TransportDefaults.plan(environment: ["PMIX_RANK": "0"], fileValues: [:]) == TransportDefaults.Plan())
  }

  /// The thread count: the user's AWESOMEGRAD_NUM_THREADS; else the host's cores shared among its
  /// ranks (at least 1), or the rank's own cores under a binding the user chose.
  @Test func threadsShareTheHostsCores() {
    let shared = TransportDefaults.threads(environment: [:], cores: 8, localRanks: 2, ownCores: false)
    #expect(shared.value == "4" && shared.setting.origin == .awesomegrad)
    #expect(
      TransportDefaults.threads(environment: [:], cores: 2, localRanks: 3, ownCores: false).value == "1")
    #expect(TransportDefaults.threads(environment: [:], cores: 2, localRanks: 4, ownCores: true).value == "2")
    let mine = TransportDefaults.threads(
      environment: ["AWESOMEGRAD_NUM_THREADS": "3"], cores: 8, localRanks: 2, ownCores: false)
    #expect(
      mine.value == nil && mine.setting == TransportSetting(name: "threads", value: "3", origin: .environment)
    )
  }

  /// `name = value` lines, `#` comments, the first file naming a parameter wins, a missing file is
  /// empty.
  @Test func parameterFilesAreReadAsOpenMPIReadsThem() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mca-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let user = directory.appendingPathComponent("user.conf"),
      system = directory.appendingPathComponent("system.conf")
    try "# mine\nbtl = tcp,self   # over the network\n\npml=ob1\nnot a setting\n".write(
      to: user, atomically: true, encoding: .utf8)
    try "btl = ^openib\nosc = ^ucx\n".write(to: system, atomically: true, encoding: .utf8)
    let values = TransportDefaults.parameterFileValues([
      user.path, directory.appendingPathComponent("missing.conf").path, system.path,
    ])
    #expect(values == ["btl": "tcp,self", "pml": "ob1", "osc": "^ucx"])
  }
}
