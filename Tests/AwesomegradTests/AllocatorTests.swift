import Awesomegrad
import Testing

@Suite struct AllocatorTests {
  /// glibc accepts both mallopt settings (each call returns 1); elsewhere the call is a no-op.
  @Test func keepFreedMemoryForReuseTakesEffectOnLinux() {
    #if os(Linux)
      #expect(keepFreedMemoryForReuse())
    #else
      #expect(!keepFreedMemoryForReuse())
    #endif
  }
}
