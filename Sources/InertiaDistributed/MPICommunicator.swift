#if MPI
    import CMPI
    import Foundation

    /// `Communicator` over MPI's world (Open MPI or MPICH, found by pkg-config as `mpi`; built
    /// only with the package trait `MPI`). The first use initialises MPI with funnelled threads (the
    /// collectives are called from one thread; the kernels' worker threads never call MPI) and MPI
    /// is finalised when the process exits.
    public final class MPICommunicator: Communicator {
        public let rank: Int
        public let size: Int
        let comm: MPI_Comm

        private static let shared: Result<MPICommunicator, CommunicatorError> = {
            var initialized: Int32 = 0
            MPI_Initialized(&initialized)
            if initialized == 0 {
                var provided: Int32 = 0
                let code = MPI_Init_thread(nil, nil, inertia_mpi_thread_funneled(), &provided)
                guard code == MPI_SUCCESS else { return .failure(.failed(operation: "MPI_Init_thread", code: code)) }
                atexit {
                    var finalized: Int32 = 0
                    MPI_Finalized(&finalized)
                    if finalized == 0 { MPI_Finalize() }
                }
            }
            // Open MPI's handles are pointers (imported as implicitly unwrapped), MPICH's integers.
            let world: MPI_Comm = inertia_mpi_comm_world()
            var rank: Int32 = 0, size: Int32 = 0
            MPI_Comm_rank(world, &rank)
            MPI_Comm_size(world, &size)
            return .success(MPICommunicator(comm: world, rank: Int(rank), size: Int(size)))
        }()

        private init(comm: MPI_Comm, rank: Int, size: Int) {
            self.comm = comm
            self.rank = rank
            self.size = size
        }

        /// MPI's world, initialising MPI on first use.
        public static func world() throws -> MPICommunicator { try shared.get() }

        /// Whether an MPI launcher started this process (Open MPI's, MPICH's / Hydra's or a PMI
        /// environment variable is set).
        public static var isLaunchedByMPI: Bool {
            let environment = ProcessInfo.processInfo.environment
            return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].contains {
                environment[$0] != nil
            }
        }

        static func datatype<T: CommunicatedScalar>(_: T.Type) -> MPI_Datatype {
            if T.self == Double.self { return inertia_mpi_double() }
            return inertia_mpi_float()
        }

        func call(_ operation: String, _ body: () -> Int32) throws {
            let code = body()
            guard code == MPI_SUCCESS else { throw CommunicatorError.failed(operation: operation, code: code) }
        }

        public func barrier() throws { try call("MPI_Barrier") { MPI_Barrier(comm) } }

        public func broadcast<T: CommunicatedScalar>(_ buffer: inout [T], root: Int) throws {
            try check(root: root)
            let count = Int32(buffer.count)
            try buffer.withUnsafeMutableBytes { bytes in
                try call("MPI_Bcast") { MPI_Bcast(bytes.baseAddress, count, Self.datatype(T.self), Int32(root), comm) }
            }
        }

        public func allReduce<T: CommunicatedScalar>(_ buffer: inout [T], _ operation: ReduceOperation) throws {
            guard !buffer.isEmpty else { return }
            let count = Int32(buffer.count)
            try buffer.withUnsafeMutableBytes { bytes in
                try call("MPI_Allreduce") {
                    MPI_Allreduce(
                        inertia_mpi_in_place(), bytes.baseAddress, count, Self.datatype(T.self), inertia_mpi_sum(),
                        comm)
                }
            }
            if operation == .mean { Self.divide(&buffer, by: size) }
        }

        /// `buffer / size`, specialised for the two scalar types (the generic element loop, called
        /// through the protocol, costs more than the all-reduce itself).
        static func divide<T: CommunicatedScalar>(_ buffer: inout [T], by size: Int) {
            buffer.withUnsafeMutableBytes { bytes in
                if T.self == Float.self {
                    let values = bytes.bindMemory(to: Float.self), scale = 1 / Float(size)
                    for i in values.indices { values[i] *= scale }
                } else {
                    let values = bytes.bindMemory(to: Double.self), scale = 1 / Double(size)
                    for i in values.indices { values[i] *= scale }
                }
            }
        }

        public func allGather<T: CommunicatedScalar>(_ block: [T]) throws -> [T] {
            var out = [T](repeating: 0, count: block.count * size)
            guard !block.isEmpty else { return out }
            let count = Int32(block.count)
            try block.withUnsafeBytes { source in
                try out.withUnsafeMutableBytes { destination in
                    try call("MPI_Allgather") {
                        MPI_Allgather(
                            source.baseAddress, count, Self.datatype(T.self), destination.baseAddress, count,
                            Self.datatype(T.self), comm)
                    }
                }
            }
            return out
        }

        public func reduceScatter<T: CommunicatedScalar>(_ buffer: [T]) throws -> [T] {
            let n = try blockLength(ofScattered: buffer.count)
            var out = [T](repeating: 0, count: n)
            guard n > 0 else { return out }
            try buffer.withUnsafeBytes { source in
                try out.withUnsafeMutableBytes { destination in
                    try call("MPI_Reduce_scatter_block") {
                        MPI_Reduce_scatter_block(
                            source.baseAddress, destination.baseAddress, Int32(n), Self.datatype(T.self),
                            inertia_mpi_sum(), comm)
                    }
                }
            }
            return out
        }
    }
#endif
