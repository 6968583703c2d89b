import AwesomegradKernels

/// Asks the C allocator to keep freed memory for reuse instead of handing it back to the operating
/// system, and returns whether the setting took effect.
///
/// A training step allocates the same activation and gradient buffers every step and frees them when
/// the graph goes. glibc's malloc serves blocks above its threshold (128 KiB to 32 MiB) with `mmap`
/// and trims the heap's top on free, so each step pays page faults to get zeroed pages back: about
/// 17% of an `mlp-784` step (`bench mlp-784`, measured with `perf`). After this call, freed blocks
/// stay in the heap and the next step reuses them; the process's resident memory stays at its peak.
///
/// This is a process-wide setting of the C library, like ``setBLASThreadCount(_:)``: the library
/// never changes it by itself. Call it once at the start of a training program; the examples and the
/// benchmark do. On platforms other than glibc it does nothing and returns false.
@discardableResult
public func keepFreedMemoryForReuse() -> Bool {
  #if os(Linux)
    // The largest mmap threshold glibc accepts on 64-bit systems is 32 MiB; never trim the heap top
    // below 1 GiB of free space.
    let mmapThreshold = mallopt(M_MMAP_THRESHOLD, 32 << 20)
    let trimThreshold = mallopt(M_TRIM_THRESHOLD, 1 << 30)
    return mmapThreshold == 1 && trimThreshold == 1
  #else
    return false
  #endif
}
