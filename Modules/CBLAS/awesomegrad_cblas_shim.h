// The project's only C: OpenBLAS's CBLAS interface, the LAPACKE C interface, and glibc's mallopt.
// The guard has a unique name on purpose: OpenBLAS's own cblas.h is guarded by CBLAS_H,
// so a shim guarded by CBLAS_H would be skipped silently.
#ifndef AWESOMEGRAD_CBLAS_SHIM_H
#define AWESOMEGRAD_CBLAS_SHIM_H

#include <cblas.h>
#include <lapacke.h>

// glibc's malloc tuning (mallopt), for keepFreedMemoryForReuse() in BLAS/Allocator.swift.
#if defined(__linux__)
#include <malloc.h>
#endif

// --- The BLAS backend's CPU check (BLAS/CPUFeatures.swift, BLAS/BLASBackend.swift) ----------------

#include <dlfcn.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/// Runs `cpuid` with the leaf and subleaf and stores eax, ebx, ecx, edx in `registers`. Returns 0
/// (and zeros) when the CPU is not x86 or the leaf is above the highest one it supports.
static inline int awesomegrad_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t registers[4]) {
  registers[0] = registers[1] = registers[2] = registers[3] = 0;
#if defined(__x86_64__) || defined(__i386__)
  uint32_t highest = __get_cpuid_max(leaf & 0x80000000u, 0);
  if (highest == 0 || leaf > highest) return 0;
  __cpuid_count(leaf, subleaf, registers[0], registers[1], registers[2], registers[3]);
  return 1;
#else
  (void)leaf;
  (void)subleaf;
  return 0;
#endif
}

/// The low 32 bits of XCR0 (which register states the operating system saves: bit 1 SSE, bit 2 AVX,
/// bits 5-7 AVX-512), or 0 when the OS has not enabled `xgetbv` (CPUID.1:ECX.OSXSAVE[bit 27]) or the
/// CPU is not x86.
static inline uint32_t awesomegrad_xcr0(void) {
#if defined(__x86_64__) || defined(__i386__)
  uint32_t r[4];
  if (!awesomegrad_cpuid(1, 0, r) || (r[2] & (1u << 27)) == 0) return 0;
  uint32_t eax, edx;
  __asm__ __volatile__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  (void)edx;
  return eax;
#else
  return 0;
#endif
}

/// The address of a function or variable named `name` among the libraries the process has loaded,
/// or NULL. Used for OpenBLAS's `gotoblas_dynamic_init`/`gotoblas_dynamic_quit`, which only
/// OpenBLAS builds with DYNAMIC_ARCH export, so that the package still links against other builds.
static inline void *awesomegrad_loaded_symbol(const char *name) {
  void *process = dlopen(NULL, RTLD_LAZY);
  if (process == NULL) return NULL;
  void *symbol = dlsym(process, name);
  dlclose(process);
  return symbol;
}

#endif  // AWESOMEGRAD_CBLAS_SHIM_H
