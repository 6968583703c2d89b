// Open MPI's C interface for AwesomegradDistributed, the only place that includes <mpi.h>.
//
// Open MPI defines its predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) as macros that
// cast the address of a global, and MPI_IN_PLACE and MPI_STATUS_IGNORE as casts of integers. Swift
// imports none of these macros, so each one is wrapped here in a static inline function of the same
// meaning. The guard has a unique name so that no header of the MPI library can shadow it.
#ifndef AWESOMEGRAD_MPI_SHIM_H
#define AWESOMEGRAD_MPI_SHIM_H

#define OMPI_SKIP_MPICXX 1  // the C interface only
#include <mpi.h>

// Communicators.
static inline MPI_Comm awesomegrad_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm awesomegrad_mpi_comm_null(void) { return MPI_COMM_NULL; }

// Datatypes.
static inline MPI_Datatype awesomegrad_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype awesomegrad_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype awesomegrad_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype awesomegrad_mpi_int32(void) { return MPI_INT32_T; }

// Reduction operations.
static inline MPI_Op awesomegrad_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op awesomegrad_mpi_max(void) { return MPI_MAX; }

// Error handlers: MPI_ERRORS_RETURN makes a failing call return its error code instead of aborting.
static inline MPI_Errhandler awesomegrad_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }

// Sentinels.
static inline void *awesomegrad_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *awesomegrad_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Info awesomegrad_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Request awesomegrad_mpi_request_null(void) { return MPI_REQUEST_NULL; }

#endif  // AWESOMEGRAD_MPI_SHIM_H
