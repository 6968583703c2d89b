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

#endif  // AWESOMEGRAD_CBLAS_SHIM_H
