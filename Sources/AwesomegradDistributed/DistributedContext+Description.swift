import Awesomegrad
import CMPI

extension DistributedContext: CustomStringConvertible {
  /// The job in a line, for logs and `--verbose`: this rank's place, the MPI library, how gradients
  /// are summed, the ``transport`` settings with who chose them, and the library's thread count now
  /// (`setThreadCount` may have changed it since).
  ///
  ///     rank 0 of 2 (2 on this host, 1 host), Open MPI v4.1.4; gradients summed in shared memory;
  ///     btl=self,vader (Awesomegrad's default), pml=ob1 (Awesomegrad's default), …; 1 library thread now
  public var description: String {
    guard usesMPI else { return "rank 0 of 1: one process, no MPI" }
    let hosts = nodeCount == 1 ? "1 host" : "\(nodeCount) hosts"
    var text = "rank \(rank) of \(size) (\(localSize) on this host, \(hosts)), \(mpiLibraryVersion())"
    switch gradientReduction {
    case .hierarchical:
      text +=
        nodeCount == 1
        ? "; gradients summed in shared memory"
        : "; gradients summed in shared memory on each host, then by MPI_Iallreduce between the hosts"
    case .mpi:
      text += "; gradients summed by MPI_Iallreduce"
    }
    if !transport.isEmpty { text += "; " + transport.map(\.description).joined(separator: ", ") }
    return text + "; \(threadCount) library thread\(threadCount == 1 ? "" : "s") now"
  }

  /// The MPI library's name and version (`Open MPI v4.1.4`): the part of `MPI_Get_library_version`
  /// before its first comma.
  func mpiLibraryVersion() -> String {
    var text = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
    var length: Int32 = 0
    guard MPI_Get_library_version(&text, &length) == MPI_SUCCESS else { return "MPI" }
    let version = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return version.split(separator: ",").first.map(String.init) ?? "MPI"
  }
}
