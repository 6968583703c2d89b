/// The merge table of a BPE model and the merge loop of `tokenizers`' `Word::merge_all`.
///
/// A word starts as one symbol per character (here: per byte, through its stand-in character's id).
/// Repeatedly, the adjacent pair with the lowest merge rank is replaced by the merged token, the
/// leftmost first among equal ranks, until no adjacent pair has a merge. A priority queue of
/// (rank, position) keeps this O(n log n) for long words (a run of 10,000 spaces).
struct BPEMerges: Sendable {
  /// (left id, right id) packed as `left << 32 | right` → (rank, merged id).
  private let table: [UInt64: (rank: Int32, merged: Int32)]

  /// The merges in priority order, each (left id, right id, merged id).
  init(_ merges: [(left: Int, right: Int, merged: Int)]) {
    var table: [UInt64: (rank: Int32, merged: Int32)] = [:]
    table.reserveCapacity(merges.count)
    for (rank, merge) in merges.enumerated() {
      let key = Self.key(merge.left, merge.right)
      // A repeated pair keeps its first (highest-priority) rank, as `tokenizers` does.
      if table[key] == nil { table[key] = (Int32(rank), Int32(merge.merged)) }
    }
    self.table = table
  }

  /// The number of distinct merges.
  var count: Int { table.count }

  @inline(__always) private static func key(_ left: Int, _ right: Int) -> UInt64 {
    UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
  }

  @inline(__always) private func merge(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
    table[Self.key(Int(left), Int(right))]
  }

  /// `symbols` (token ids of single characters) merged as far as the table allows.
  func apply(to symbols: [Int32]) -> [Int32] {
    let n = symbols.count
    if n < 2 { return symbols }
    var ids = symbols
    var previous = Array(-1..<(n - 1))
    var next = Array(1...n)
    next[n - 1] = -1
    var alive = [Bool](repeating: true, count: n)
    var queue = MergeQueue()
    for i in 0..<(n - 1) {
      if let m = merge(ids[i], ids[i + 1]) { queue.push(.init(rank: m.rank, position: Int32(i), merged: m.merged)) }
    }
    while let top = queue.pop() {
      let i = Int(top.position)
      guard alive[i], next[i] >= 0 else { continue }
      let j = next[i]
      // The pair may have changed since it was queued: only merge if it still makes this token.
      guard let m = merge(ids[i], ids[j]), m.merged == top.merged else { continue }
      ids[i] = m.merged
      alive[j] = false
      next[i] = next[j]
      if next[j] >= 0 { previous[next[j]] = i }
      if previous[i] >= 0, let left = merge(ids[previous[i]], ids[i]) {
        queue.push(.init(rank: left.rank, position: Int32(previous[i]), merged: left.merged))
      }
      if next[i] >= 0, let right = merge(ids[i], ids[next[i]]) {
        queue.push(.init(rank: right.rank, position: Int32(i), merged: right.merged))
      }
    }
    var result: [Int32] = []
    var i = 0
    while i >= 0 && i < n {
      result.append(ids[i])
      i = next[i]
    }
    return result
  }
}

/// A binary min-heap of pending merges ordered by (rank, position).
struct MergeQueue {
  struct Item {
    let rank: Int32
    let position: Int32
    let merged: Int32

    @inline(__always) static func < (a: Item, b: Item) -> Bool {
      a.rank != b.rank ? a.rank < b.rank : a.position < b.position
    }
  }

  private var heap: [Item] = []

  mutating func push(_ item: Item) {
    heap.append(item)
    var child = heap.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard heap[child] < heap[parent] else { break }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> Item? {
    guard let top = heap.first else { return nil }
    let last = heap.removeLast()
    if heap.isEmpty { return top }
    heap[0] = last
    var parent = 0
    while true {
      let left = 2 * parent + 1, right = left + 1
      var smallest = parent
      if left < heap.count && heap[left] < heap[smallest] { smallest = left }
      if right < heap.count && heap[right] < heap[smallest] { smallest = right }
      if smallest == parent { break }
      heap.swapAt(parent, smallest)
      parent = smallest
    }
    return top
  }
}
