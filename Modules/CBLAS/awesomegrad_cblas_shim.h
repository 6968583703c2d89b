// OpenBLAS's CBLAS interface, the LAPACKE C interface, and the dlsym helper the kernel check uses.
// The guard has a unique name on purpose: OpenBLAS's own cblas.h is guarded by CBLAS_H,
// so a shim guarded by CBLAS_H would be skipped silently.
#ifndef AWESOMEGRAD_CBLAS_SHIM_H
#define AWESOMEGRAD_CBLAS_SHIM_H

#include <cblas.h>
#include <lapacke.h>

// --- The BLAS backend's kernel check (BLAS/BLASBackend.swift) -----------------------------------

#include <dlfcn.h>

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
