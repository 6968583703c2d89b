import Foundation
import Testing

/// `ddp-check` across two hosts: two Linux network namespaces joined by a shaped veth link
/// (`scripts/ddp-hosts --check-only`, what `make ddp-hosts` runs first). Each rank is its own node,
/// so the hierarchical reduction sums over TCP between the node leaders, and the result must still
/// equal one process at the global batch within 1e-12.
///
/// Making namespaces needs root (CAP_NET_ADMIN); where the machine does not allow it the test is
/// skipped with the script's reason, printed, never silently.
@Suite struct CrossHostTests {
  /// The repository's `scripts/ddp-hosts`, found from this file's path.
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts/ddp-hosts")

  /// Whether this machine can make the two hosts (`ddp-hosts --probe`), and why not.
  static let probe: (allowed: Bool, reason: String) = {
    guard let bash = MPIEquivalenceTests.findInPath("bash") else { return (false, "bash is not installed") }
    guard
      let run = try? MPIEquivalenceTests.run(
        bash, [script.path, "--probe"], environment: ProcessInfo.processInfo.environment, deadline: 60)
    else { return (false, "scripts/ddp-hosts --probe could not run") }
    let reason = run.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    if run.status != 0 {
      print("CrossHostTests: skipped: \(reason)")
      return (false, "no network namespaces here: \(reason)")
    }
    return (true, reason)
  }()

  @Test(.enabled(if: probe.allowed, Comment(rawValue: probe.reason)))
  func twoHostsOverAShapedLinkTrainAsOneProcess() throws {
    let bash = try #require(MPIEquivalenceTests.findInPath("bash"))
    let ddpCheck = try #require(
      MPIEquivalenceTests.findDDPCheck(), "the ddp-check executable is not next to the test bundle")
    let run = try MPIEquivalenceTests.run(
      bash, [Self.script.path, "--check-only", "--bin", ddpCheck.deletingLastPathComponent().path],
      environment: ProcessInfo.processInfo.environment, deadline: 300)
    #expect(run.status == 0, "ddp-hosts failed:\n\(run.stdout)\n\(run.stderr)")
    let rows = try run.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
      .map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(rows.map { $0["check"] as? String } == MPIEquivalenceTests.checkNames, "\(run.stdout)")
    for row in rows {
      let name = row["check"] as? String ?? "?"
      #expect(row["nodes"] as? Int == 2, "\(name): the ranks must be on two hosts")
      #expect((row["max_abs_difference"] as? Double ?? 1) <= 1e-12, "\(name)")
      #expect(row["rank_spread"] as? Double == 0, "\(name)")
    }
    // The gradients crossed the link: the script counts the bytes that left the first host.
    #expect(run.stderr.contains("bytes left host"), "\(run.stderr)")
  }
}
