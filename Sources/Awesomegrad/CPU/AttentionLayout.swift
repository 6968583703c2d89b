import Foundation

/// Where the matrices of an attention call lie in their buffers: matrix n (of `batch`) starts at
/// `base + (n / heads)·outer + ((n % heads) / groups)·inner`, with `leading` elements between rows.
///
/// `groups` > 1 lets several query heads share one key/value head (grouped-query attention, Llama's
/// `repeat_kv` without the copy): query head h reads key/value head h / groups.
struct MatrixLayout {
  let base: Int
  let outer: Int
  let inner: Int
  let leading: Int
  var groups: Int = 1

  @inline(__always) func offset(_ n: Int, heads: Int) -> Int {
    base + (n / heads) * outer + ((n % heads) / groups) * inner
  }
}

/// The mask of an attention call, row-major over `[queries, keys]` (shared by every batch and head)
/// or over `[batch, queries, keys]`; true where a query may attend to a key.
struct AttentionMask {
  let flags: [Bool]
  let isShared: Bool

  /// Which keys of each tile the mask allows, per matrix (one when shared), query tile and key tile,
  /// row-major: ``AttentionBlock/none``, ``AttentionBlock/some`` or ``AttentionBlock/all``.
  func blocks(queries: Int, keys: Int, batch: Int, queryTile: Int, keyTile: Int) -> [AttentionBlock] {
    let matrices = isShared ? 1 : batch
    let queryTiles = (queries + queryTile - 1) / queryTile
    let keyTiles = (keys + keyTile - 1) / keyTile
    var table = [AttentionBlock](repeating: .none, count: matrices * queryTiles * keyTiles)
    flags.withUnsafeBufferPointer { flags in
      for matrix in 0..<matrices {
        let base = flags.baseAddress! + matrix * queries * keys
        for qi in 0..<queryTiles {
          let rows = (qi * queryTile)..<Swift.min((qi + 1) * queryTile, queries)
          for kj in 0..<keyTiles {
            let columns = (kj * keyTile)..<Swift.min((kj + 1) * keyTile, keys)
            var allowed = 0
            for r in rows {
              let row = base + r * keys
              for c in columns where row[c] { allowed += 1 }
            }
            table[(matrix * queryTiles + qi) * keyTiles + kj] =
              allowed == 0 ? .none : allowed == rows.count * columns.count ? .all : .some
          }
        }
      }
    }
    return table
  }
}

/// How much of a tile of scores a mask (or the causal rule) lets through.
enum AttentionBlock: UInt8 {
  /// Nothing: the tile is skipped.
  case none
  /// Some entries: the tile is computed and its masked entries set to −∞.
  case some
  /// Everything: the tile is computed without masking.
  case all

  /// The block both rules allow.
  @inline(__always) func combined(with other: AttentionBlock) -> AttentionBlock {
    AttentionBlock(rawValue: Swift.min(rawValue, other.rawValue))!
  }
}

/// The sizes, layouts and options of one attention call.
///
/// Query row r may attend to key column c when the mask allows it and, under `isCausal`, when
/// c ≤ r + `causalShift`: a shift of 0 is PyTorch's `is_causal` (the top-left diagonal); a KV cache
/// whose L new queries follow S − L cached positions uses S − L (the bottom-right diagonal).
struct AttentionGeometry<Scalar: TensorScalar> {
  let batch: Int
  let queries: Int
  let keys: Int
  let depth: Int
  let valueDepth: Int
  let heads: Int
  let query: MatrixLayout
  let key: MatrixLayout
  let value: MatrixLayout
  let output: MatrixLayout
  let scale: Scalar
  let isCausal: Bool
  var causalShift: Int = 0
  let mask: AttentionMask?

  /// What the causal rule lets through in rows `rows` and columns `columns`.
  @inline(__always) func causalBlock(rows: Range<Int>, columns: Range<Int>) -> AttentionBlock {
    guard isCausal else { return .all }
    if columns.lowerBound > rows.upperBound - 1 + causalShift { return .none }
    return columns.upperBound - 1 <= rows.lowerBound + causalShift ? .all : .some
  }

  /// The number of leading key columns row `row` may see under the causal rule (all when not causal).
  @inline(__always) func causalLimit(row: Int) -> Int {
    guard isCausal else { return keys }
    return Swift.min(Swift.max(row + 1 + causalShift, 0), keys)
  }
}

/// Counts the scratch memory attention allocates, for tests that prove what an attention call holds:
/// bind one with `AttentionWorkspace.$recorder.withValue(recorder) { ... }` around the call and its
/// backward. The op reads the task-local on the calling thread and hands the recorder to its kernels,
/// since the pool's threads do not see task-locals.
final class AttentionWorkspace: @unchecked Sendable {
  @TaskLocal static var recorder: AttentionWorkspace?

  private let lock = NSLock()
  private var largest = 0
  private var total = 0
  private var tiles = 0

  /// The largest single allocation recorded, in bytes.
  var largestAllocation: Int { lock.withLock { largest } }
  /// The sum of every allocation recorded, in bytes (an upper bound of what was live at once).
  var totalAllocated: Int { lock.withLock { total } }

  /// The tiles of scores the fused kernel computed (forward and backward), skipped ones not counted.
  var tilesComputed: Int { lock.withLock { tiles } }

  func recordTile() { lock.withLock { tiles += 1 } }

  func record(bytes: Int) {
    lock.withLock {
      largest = Swift.max(largest, bytes)
      total += bytes
    }
  }
}

/// Scratch memory for an attention kernel: `count` uninitialised scalars, recorded when a recorder is
/// given. The caller deallocates it.
@inline(__always)
func attentionScratch<Scalar>(_ count: Int, of _: Scalar.Type, recorder: AttentionWorkspace?)
  -> UnsafeMutablePointer<Scalar>
{
  recorder?.record(bytes: count * MemoryLayout<Scalar>.stride)
  return UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(count, 1))
}
