// The project's only C: OpenBLAS's CBLAS interface and the LAPACKE C interface.
// The guard has a unique name on purpose: OpenBLAS's own cblas.h is guarded by CBLAS_H,
// so a shim guarded by CBLAS_H would be skipped silently.
#ifndef AWESOMEGRAD_CBLAS_SHIM_H
#define AWESOMEGRAD_CBLAS_SHIM_H

#include <cblas.h>
#include <lapacke.h>

#endif  // AWESOMEGRAD_CBLAS_SHIM_H
