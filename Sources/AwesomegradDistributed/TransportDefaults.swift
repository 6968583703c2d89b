import AwesomegradKernels
import CMPI
import Foundation

// The Open MPI settings a plain `mpirun -np N program` should not need. `Distributed.initialize`
// chooses them before `MPI_Init`, through the environment variables that Open MPI reads at
// `MPI_Init` (`OMPI_MCA_<name>`, the same variables `mpirun --mca name value` sets in the ranks), and
// only where the user chose nothing: an environment variable or a parameter file that sets the name
// always wins. Measured on a 2-core machine (docs/DESIGN.md, "Choosing the transport"):
//
// - `binding`: mpirun binds each rank to one core by default (2 ranks or fewer; to a socket above).
//   With another busy process on the machine the bound ranks took 1.38–1.53 s per MLP epoch against
//   0.93–1.20 s unbound, and a rank with several threads would run them all on its one core. So a
//   rank that mpirun bound by default (`OMPI_MCA_orte_bound_at_launch=1`, no binding option given)
//   may run on every CPU again (Horovod's `horovodrun` passes `-bind-to none` for the same reason).
// - `btl_vader_single_copy_mechanism=none`: messages between the ranks of one host go through the
//   shared-memory FIFOs instead of CMA (`process_vm_readv`, which containers often forbid); the
//   overlapped averaging of the MLP took 0.53–0.59 ms per step instead of 0.68–0.71 ms.
// - `coll_libnbc_iallreduce_algorithm=rabenseifner`: Open MPI 4.1 reduces an in-place `MPI_Iallreduce`
//   on fewer than 4 ranks with a binomial tree (to rank 0, then back), which sends the whole buffer
//   twice in turn: 26.5 ms for the CNN's 1.69 MB between two hosts over 1 Gbit/s, against 14.1 ms with
//   a reduce-scatter and allgather (N/β = 13.5 ms), and 0.22 against 0.18 ms in shared memory. With
//   fewer elements than ranks Open MPI falls back to its ring.
// - `btl=self,vader` and `pml=ob1` when every rank is on this host (`OMPI_COMM_WORLD_LOCAL_SIZE` equals
//   `OMPI_COMM_WORLD_SIZE`): shared memory only, no TCP or InfiniBand probing. They changed neither the
//   start-up nor the epoch here, but keep a one-host job off the network; with ranks on several hosts
//   they are left to Open MPI, which then uses TCP (or a faster network) between the hosts.
// - `threads` (`AWESOMEGRAD_NUM_THREADS`, the library's thread count): the cores this rank may use
//   divided among the ranks of its host (1 for 2 ranks on 2 cores), where the count would otherwise
//   be every core for every rank; PyTorch's `torchrun` sets one thread per process likewise. With a
//   binding the user chose, the rank's own cores.

/// Awesomegrad's choice of Open MPI settings, where the user made none.
enum TransportDefaults {
  /// What to do before `MPI_Init`, and the settings to report.
  struct Plan: Equatable {
    /// `OMPI_MCA_<name>` variables to set.
    var environment: [String: String] = [:]
    /// Every setting Awesomegrad looked at, with its value and origin.
    var settings: [TransportSetting] = []
    /// Whether to let every thread of this process run on every CPU again (undo mpirun's default
    /// binding).
    var widenAffinity = false
  }

  /// Chosen on every host: no CMA single-copy between the ranks of a host, and a bandwidth-optimal
  /// algorithm for the non-blocking allreduce.
  static let everywhere = [
    ("btl_vader_single_copy_mechanism", "none"), ("coll_libnbc_iallreduce_algorithm", "rabenseifner"),
  ]
  /// Chosen when every rank runs on this host: shared memory (and self) only, the ob1 messaging layer.
  static let oneHost = [("btl", "self,vader"), ("pml", "ob1")]
  /// mpirun's binding options (as MCA names: `--bind-to`, `--cpu-set`, `--rankfile`, `--cpus-per-proc`):
  /// when the user gave any of them, the binding is theirs. `--map-by` alone (`node`, `slot`) says where
  /// ranks go, not which cores they may use; with `:PE=n` it binds too (see ``choosesBinding(_:_:)``).
  static let bindingParameters = [
    "hwloc_base_binding_policy", "hwloc_base_cpu_set", "hwloc_base_cpu_list", "rmaps_rank_file_path",
    "rmaps_base_cpus_per_rank", "rmaps_base_mapping_policy",
  ]

  /// Whether parameter `name` set to `value` chooses the ranks' binding.
  static func choosesBinding(_ name: String, _ value: String) -> Bool {
    name != "rmaps_base_mapping_policy" || value.lowercased().contains("pe=")
  }

  /// The plan for a rank with this environment, where `fileValues` are the values Open MPI's
  /// parameter files set (the first file naming a parameter wins, as in Open MPI). Pure, for tests.
  ///
  /// A parameter set in the environment is the user's. One set in a file is the user's too, unless it
  /// is an exclusion list (`^uct,openib`, as distributions ship) that excludes none of the components
  /// Awesomegrad would choose: then Awesomegrad's narrower choice is compatible with it and applies.
  /// Nothing is chosen outside a job that Open MPI's `mpirun` started (no `OMPI_COMM_WORLD_SIZE`).
  static func plan(environment: [String: String], fileValues: [String: String]) -> Plan {
    var plan = Plan()
    guard let worldSize = environment["OMPI_COMM_WORLD_SIZE"].flatMap({ Int($0) }) else { return plan }
    let localSize = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }
    let choices = (localSize == worldSize ? oneHost : []) + everywhere
    for (name, value) in choices {
      if let mine = environment["OMPI_MCA_\(name)"] {
        plan.settings.append(TransportSetting(name: name, value: mine, origin: .environment))
      } else if let file = fileValues[name], !isCompatibleExclusion(file, with: value) {
        plan.settings.append(TransportSetting(name: name, value: file, origin: .parameterFile))
      } else {
        plan.environment["OMPI_MCA_\(name)"] = value
        plan.settings.append(TransportSetting(name: name, value: value, origin: .awesomegrad))
      }
    }
    if localSize != worldSize {
      // Ranks on several hosts: the network transport is Open MPI's (or the user's) choice.
      for name in ["btl", "pml"] {
        if let mine = environment["OMPI_MCA_\(name)"] {
          plan.settings.insert(TransportSetting(name: name, value: mine, origin: .environment), at: 0)
        } else if let file = fileValues[name] {
          plan.settings.insert(TransportSetting(name: name, value: file, origin: .parameterFile), at: 0)
        } else {
          plan.settings.insert(
            TransportSetting(name: name, value: "chosen by Open MPI", origin: .openMPIDefault), at: 0)
        }
      }
    }
    let placement =
      bindingParameters.first { name in
        environment["OMPI_MCA_\(name)"].map { choosesBinding(name, $0) } ?? false
      }
      .map { ($0, TransportSetting.Origin.environment) }
      ?? bindingParameters.first { name in fileValues[name].map { choosesBinding(name, $0) } ?? false }
      .map { ($0, TransportSetting.Origin.parameterFile) }
    if environment["OMPI_MCA_orte_bound_at_launch"] != "1" {
      plan.settings.append(
        TransportSetting(name: "binding", value: "none", origin: placement?.1 ?? .openMPIDefault))
    } else if let (name, origin) = placement {
      plan.settings.append(
        TransportSetting(name: "binding", value: "mpirun's, as \(name) asks", origin: origin))
    } else {
      plan.widenAffinity = true
      plan.settings.append(
        TransportSetting(
          name: "binding", value: "none, undoing mpirun's default binding", origin: .awesomegrad))
    }
    return plan
  }

  /// Whether `value` is an exclusion list (`^a,b`) that leaves every component of `choice` allowed.
  static func isCompatibleExclusion(_ value: String, with choice: String) -> Bool {
    let trimmed = value.trimmingCharacters(in: .whitespaces)
    guard trimmed.hasPrefix("^") else { return false }
    let excluded = Set(
      trimmed.dropFirst().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    return choice.split(separator: ",").allSatisfy { !excluded.contains(String($0)) }
  }

  /// The values that the parameter files set, the first file naming a parameter winning. Lines read
  /// `name = value`; `#` starts a comment. A file that is missing, unreadable or larger than 1 MiB
  /// counts as empty (Open MPI reports problems with its own files at `MPI_Init`).
  static func parameterFileValues(_ paths: [String]) -> [String: String] {
    var values: [String: String] = [:]
    for path in paths {
      guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
        let size = attributes[.size] as? Int, size <= 1 << 20,
        let data = FileManager.default.contents(atPath: path)
      else { continue }
      for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
        let text = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        if !name.isEmpty && values[name] == nil { values[name] = value }
      }
    }
    return values
  }

  /// The library's thread count for a rank that may use `cores` cores, with `localRanks` ranks on
  /// its host: the user's `AWESOMEGRAD_NUM_THREADS` when set; else the cores shared among the host's
  /// ranks, or all of `cores` when they are the rank's own (`ownCores`: a binding the user chose).
  /// Returns the setting to report and the value to put in the environment, if any.
  static func threads(environment: [String: String], cores: Int, localRanks: Int, ownCores: Bool)
    -> (setting: TransportSetting, value: String?)
  {
    if let mine = environment["AWESOMEGRAD_NUM_THREADS"] {
      return (TransportSetting(name: "threads", value: mine, origin: .environment), nil)
    }
    let share = ownCores ? Swift.max(1, cores) : Swift.max(1, cores / Swift.max(1, localRanks))
    func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
    let why =
      ownCores
      ? "this rank's \(count(cores, "core"))"
      : "\(count(cores, "core")) shared by \(count(localRanks, "rank")) on this host"
    return (
      TransportSetting(name: "threads", value: "\(share), for \(why)", origin: .awesomegrad), "\(share)"
    )
  }

  /// Chooses the settings for this process before `MPI_Init` (which must not have run): reads Open
  /// MPI's parameter files, sets the chosen `OMPI_MCA_*` variables, widens the CPU affinity as
  /// planned, and sets `AWESOMEGRAD_NUM_THREADS` where the user did not (it counts only if nothing
  /// has called `setThreadCount` or read `threadCount` yet). Returns the settings to report.
  static func apply() -> [TransportSetting] {
    let environment = ProcessInfo.processInfo.environment
    guard environment["OMPI_COMM_WORLD_SIZE"] != nil else { return [] }
    let plan = plan(environment: environment, fileValues: parameterFileValues(parameterFilePaths()))
    for (name, value) in plan.environment { setenv(name, value, 1) }
    if plan.widenAffinity { allowEveryCPU() }
    let bound = environment["OMPI_MCA_orte_bound_at_launch"] == "1" && !plan.widenAffinity
    let (setting, value) = threads(
      environment: environment, cores: Int(awesomegrad_available_cores()),
      localRanks: environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1, ownCores: bound)
    if let value { setenv("AWESOMEGRAD_NUM_THREADS", value, 1) }
    return plan.settings + [setting]
  }

  /// The parameter files Open MPI reads, in order (its `mca_base_param_files` variable, read through
  /// the MPI tool interface, which may run before `MPI_Init`); empty when it cannot be read.
  static func parameterFilePaths() -> [String] {
    var provided: Int32 = 0
    guard MPI_T_init_thread(Int32(MPI_THREAD_SINGLE), &provided) == MPI_SUCCESS else { return [] }
    defer { _ = MPI_T_finalize() }
    var index: Int32 = 0
    guard MPI_T_cvar_get_index("mca_base_param_files", &index) == MPI_SUCCESS else { return [] }
    var handle: MPI_T_cvar_handle? = nil
    var count: Int32 = 0
    guard MPI_T_cvar_handle_alloc(index, nil, &handle, &count) == MPI_SUCCESS else { return [] }
    defer { _ = MPI_T_cvar_handle_free(&handle) }
    // Open MPI copies the whole string (it reports a count of 2048 for every string); the value is
    // the default list or the user's OMPI_MCA_mca_base_param_files, so leave room for the longest.
    let userList = ProcessInfo.processInfo.environment["OMPI_MCA_mca_base_param_files"]?.utf8.count ?? 0
    let capacity = Swift.max(Int(count), 4096, userList + 4096)
    var buffer = [CChar](repeating: 0, count: capacity)
    guard MPI_T_cvar_read(handle, &buffer) == MPI_SUCCESS else { return [] }
    buffer[capacity - 1] = 0
    let list = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return list.split(whereSeparator: { $0 == "," || $0 == ":" }).map(String.init)
  }

  /// Lets every thread of this process run on every CPU the system allows it (the kernel intersects
  /// the mask with the process's cgroup), undoing the binding mpirun applied before starting it.
  static func allowEveryCPU() {
    #if os(Linux)
      let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
      for task in tasks.compactMap({ Int32($0) }) { _ = awesomegrad_allow_every_cpu(task) }
    #endif
  }
}
