/// Data-parallel ranks splitting a matrix optimizer's work (Muon's orthogonalisations): in each
/// step the k-th matrix is computed by rank `k mod size` alone and broadcast from it, so every
/// rank computes only its share and all apply the same, bit-identical result. The optimizer's
/// cheap elementwise state (momentum) is still updated on every rank, so every rank's state is
/// complete and a checkpoint from any rank resumes at any world size.
public struct MatrixWorkSharing {
    public let rank: Int
    public let size: Int
    /// Replaces `values` on every rank by rank `root`'s (a collective: every rank calls it, in the
    /// same order).
    public let broadcast: (_ values: inout [Float], _ root: Int) -> Void

    public init(rank: Int, size: Int, broadcast: @escaping (_ values: inout [Float], _ root: Int) -> Void) {
        precondition(size >= 1 && (0..<size).contains(rank), "MatrixWorkSharing: rank \(rank) of \(size)")
        self.rank = rank
        self.size = size
        self.broadcast = broadcast
    }
}
