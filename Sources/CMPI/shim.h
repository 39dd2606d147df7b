// MPI for Swift: the standard's handles are macros (Open MPI's are addresses of globals, MPICH's
// integer constants), which Swift cannot import; these inline functions hand them over.
#include <mpi.h>

static inline MPI_Comm inertia_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype inertia_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype inertia_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op inertia_mpi_sum(void) { return MPI_SUM; }
static inline void *inertia_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int inertia_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
