import Foundation
import InertiaTensor

/// Minimum-compliance topology optimisation by SIMP with the density filter and the
/// optimality-criteria update, as the 88-line MATLAB code (Andreassen, Clausen, Schevenels,
/// Lazarov & Sigmund, "Efficient topology optimization in MATLAB using 88 lines of code", 2011;
/// `diffusion-trajectory-alignment.md` 2.5): plane stress on unit square Q4 elements, nodes
/// numbered column by column from the top left (node `(ix, iy)` is `ix·(nely + 1) + iy`, DOFs
/// `2n` and `2n + 1`), `K·U = F` solved on the free DOFs by a banded Cholesky, Float64.
public struct TopologyOptimization: Sendable {
    /// The mesh, loads, supports and SIMP constants.
    public struct Problem: Sendable {
        public var nelx: Int
        public var nely: Int
        public var volumeFraction: Double
        public var penalty = 3.0
        public var filterRadius = 1.5
        public var youngsModulus = 1.0
        public var minimumModulus = 1e-9
        public var poissonRatio = 0.3
        public var move = 0.2
        /// `(DOF, force)` pairs.
        public var loads: [(dof: Int, force: Double)]
        public var fixedDOFs: [Int]

        public init(nelx: Int, nely: Int, volumeFraction: Double, loads: [(dof: Int, force: Double)], fixedDOFs: [Int])
        {
            precondition(nelx >= 1 && nely >= 1, "TopologyOptimization: needs a mesh, got \(nelx) x \(nely)")
            precondition(
                volumeFraction > 0 && volumeFraction <= 1,
                "TopologyOptimization: the volume fraction must lie in (0, 1], got \(volumeFraction)")
            let dofs = 2 * (nelx + 1) * (nely + 1)
            precondition(
                loads.allSatisfy { (0..<dofs).contains($0.dof) } && fixedDOFs.allSatisfy { (0..<dofs).contains($0) },
                "TopologyOptimization: a load or support names a DOF outside 0..<\(dofs)")
            self.nelx = nelx
            self.nely = nely
            self.volumeFraction = volumeFraction
            self.loads = loads
            self.fixedDOFs = fixedDOFs
        }

        /// The node index of `(ix, iy)`, `iy = 0` at the top.
        public func node(_ ix: Int, _ iy: Int) -> Int { ix * (nely + 1) + iy }

        /// A cantilever: the left edge clamped, a unit downward force at the right-edge node `loadRow`
        /// (the middle when nil).
        public static func cantilever(nelx: Int, nely: Int, volumeFraction: Double, loadRow: Int? = nil) -> Problem {
            let row = loadRow ?? nely / 2
            precondition((0...nely).contains(row), "cantilever: the load row must lie in 0...\(nely), got \(row)")
            let loadNode = nelx * (nely + 1) + row
            return Problem(
                nelx: nelx, nely: nely, volumeFraction: volumeFraction, loads: [(2 * loadNode + 1, -1)],
                fixedDOFs: Array(0..<(2 * (nely + 1))))
        }

        /// Half an MBB beam (top88's default): a unit downward force at the top-left node, the
        /// left edge on rollers in x, the bottom-right node fixed in y.
        public static func mbbBeam(nelx: Int, nely: Int, volumeFraction: Double) -> Problem {
            let bottomRight = nelx * (nely + 1) + nely
            return Problem(
                nelx: nelx, nely: nely, volumeFraction: volumeFraction, loads: [(1, -1)],
                fixedDOFs: stride(from: 0, to: 2 * (nely + 1), by: 2).map { $0 } + [2 * bottomRight + 1])
        }
    }

    /// The unit square Q4 plane-stress stiffness for Young's modulus 1 (8 × 8, DOFs lower-left,
    /// lower-right, upper-right, upper-left, x then y).
    public static func elementStiffness(poissonRatio nu: Double) -> Matrix64 {
        // KE = (A + nu·B) / (24 (1 − nu²)) with A = [[A11, A12], [A12ᵀ, A11]], B likewise (top88).
        let a11: [[Double]] = [[12, 3, -6, -3], [3, 12, 3, 0], [-6, 3, 12, -3], [-3, 0, -3, 12]]
        let a12: [[Double]] = [[-6, -3, 0, 3], [-3, -6, -3, -6], [0, -3, -6, 3], [3, -6, 3, -6]]
        let b11: [[Double]] = [[-4, 3, -2, 9], [3, -4, -9, 4], [-2, -9, -4, -3], [9, 4, -3, -4]]
        let b12: [[Double]] = [[2, -3, 4, -9], [-3, 2, 9, -2], [4, 9, 2, 3], [-9, -2, 3, 2]]
        func block(_ d: [[Double]], _ o: [[Double]], _ r: Int, _ c: Int) -> Double {
            switch (r < 4, c < 4) {
            case (true, true), (false, false): return d[r % 4][c % 4]
            case (true, false): return o[r][c - 4]
            case (false, true): return o[c][r - 4]
            }
        }
        let scale = 1 / (24 * (1 - nu * nu))
        return Matrix64(
            rows: 8, columns: 8,
            scalars: (0..<64).map { i in
                (block(a11, a12, i / 8, i % 8) + nu * block(b11, b12, i / 8, i % 8)) * scale
            })
    }

    public let problem: Problem
    let stiffness: [Double]
    /// The 8 DOFs of each element (element `(ex, ey)` is `ex·nely + ey`).
    let elementDOFs: [[Int]]
    /// Free DOF `d`'s position among the free ones, or -1 when fixed.
    let freeIndex: [Int]
    let freeCount: Int
    let bandwidth: Int
    /// The density filter: per element, its neighbours and weights `max(0, rmin − distance)`.
    let filterNeighbours: [[(element: Int, weight: Double)]]
    let filterSums: [Double]
    /// The design variables and the filtered (physical) densities.
    public private(set) var design: [Double]
    public private(set) var densities: [Double]

    /// Starts from `initialDesign` (element order `ex·nely + ey`; physical densities equal to it
    /// until the first update, as top88 starts) or from the volume fraction everywhere.
    public init(_ problem: Problem, initialDesign: [Double]? = nil) {
        precondition(
            initialDesign.map { $0.count == problem.nelx * problem.nely && $0.allSatisfy { (0...1).contains($0) } }
                ?? true,
            "TopologyOptimization: the initial design needs \(problem.nelx * problem.nely) densities in [0, 1]")
        self.problem = problem
        let nelx = problem.nelx, nely = problem.nely
        stiffness = Self.elementStiffness(poissonRatio: problem.poissonRatio).scalars
        elementDOFs = (0..<(nelx * nely)).map { e in
            let ex = e / nely, ey = e % nely
            let n1 = ex * (nely + 1) + ey + 1
            return [0, 1, 2 * nely + 2, 2 * nely + 3, 2 * nely, 2 * nely + 1, -2, -1].map { 2 * n1 + $0 }
        }
        let dofs = 2 * (nelx + 1) * (nely + 1)
        var fixed = [Bool](repeating: false, count: dofs)
        for d in problem.fixedDOFs { fixed[d] = true }
        var index = [Int](repeating: -1, count: dofs), count = 0
        for d in 0..<dofs where !fixed[d] {
            index[d] = count
            count += 1
        }
        freeIndex = index
        freeCount = count
        var band = 0
        for dofs in elementDOFs {
            let free = dofs.map { index[$0] }.filter { $0 >= 0 }
            if let low = free.min(), let high = free.max() { band = Swift.max(band, high - low) }
        }
        bandwidth = band
        let radius = problem.filterRadius, reach = Int(radius.rounded(.up)) - 1
        var neighbours: [[(element: Int, weight: Double)]] = []
        for ex in 0..<nelx {
            for ey in 0..<nely {
                var row: [(element: Int, weight: Double)] = []
                for fx in Swift.max(ex - reach, 0)...Swift.min(ex + reach, nelx - 1) {
                    for fy in Swift.max(ey - reach, 0)...Swift.min(ey + reach, nely - 1) {
                        let distance = Double((ex - fx) * (ex - fx) + (ey - fy) * (ey - fy)).squareRoot()
                        let weight = Swift.max(0, radius - distance)
                        if weight > 0 { row.append((fx * nely + fy, weight)) }
                    }
                }
                neighbours.append(row)
            }
        }
        filterNeighbours = neighbours
        filterSums = neighbours.map { $0.reduce(0) { $0 + $1.weight } }
        design = initialDesign ?? [Double](repeating: problem.volumeFraction, count: nelx * nely)
        densities = design
    }

    /// `H·v / (H·1)` (the filter), or with `transposed` its adjoint `H·(v / H·1)`.
    func filtered(_ v: [Double], transposed: Bool) -> [Double] {
        filterNeighbours.indices.map { e in
            filterNeighbours[e].reduce(0) { sum, n in
                sum + n.weight * (transposed ? v[n.element] / filterSums[n.element] : v[n.element])
            } / (transposed ? 1 : filterSums[e])
        }
    }

    /// The compliance `Fᵀ·U` of physical densities and its sensitivities `dc/dx_e`; throws when the
    /// stiffness matrix is singular (a support leaves a rigid motion free).
    public func compliance(of densities: [Double]) throws -> (compliance: Double, sensitivities: [Double]) {
        let p = problem.penalty, e0 = problem.youngsModulus, emin = problem.minimumModulus
        let w = bandwidth + 1
        var band = [Double](repeating: 0, count: freeCount * w)
        for (e, dofs) in elementDOFs.enumerated() {
            let modulus = emin + Foundation.pow(densities[e], p) * (e0 - emin)
            for a in 0..<8 {
                let i = freeIndex[dofs[a]]
                guard i >= 0 else { continue }
                for c in 0..<8 {
                    let j = freeIndex[dofs[c]]
                    guard j >= 0, j <= i else { continue }
                    band[i * w + (i - j)] += modulus * stiffness[a * 8 + c]
                }
            }
        }
        var force = [Double](repeating: 0, count: freeCount)
        for load in problem.loads where freeIndex[load.dof] >= 0 { force[freeIndex[load.dof]] += load.force }
        let solution = try BandedCholesky(order: freeCount, bandwidth: bandwidth, lowerBand: band).solve(force)
        var u = [Double](repeating: 0, count: freeIndex.count)
        for (d, i) in freeIndex.enumerated() where i >= 0 { u[d] = solution[i] }
        var total = 0.0
        var sensitivities = [Double](repeating: 0, count: elementDOFs.count)
        for (e, dofs) in elementDOFs.enumerated() {
            var energy = 0.0
            for a in 0..<8 {
                var row = 0.0
                for c in 0..<8 { row += stiffness[a * 8 + c] * u[dofs[c]] }
                energy += u[dofs[a]] * row
            }
            total += (emin + Foundation.pow(densities[e], p) * (e0 - emin)) * energy
            sensitivities[e] = -p * Foundation.pow(densities[e], p - 1) * (e0 - emin) * energy
        }
        return (total, sensitivities)
    }

    /// One optimality-criteria iteration: the compliance of the current physical densities (the
    /// value returned), the filtered sensitivities, the bisection on the volume multiplier, the
    /// moved design and its filtered densities. Also returns the largest design change.
    @discardableResult
    public mutating func iterate() throws -> (compliance: Double, change: Double) {
        let (c, dc) = try compliance(of: densities)
        let sensitivity = filtered(dc, transposed: true)
        let volume = filtered([Double](repeating: 1, count: design.count), transposed: true)
        let target = problem.volumeFraction * Double(design.count)
        var low = 0.0, high = 1e9
        var next = design
        while (high - low) / (low + high) > 1e-3 {
            let middle = 0.5 * (low + high)
            for e in design.indices {
                let step = design[e] * (Swift.max(-sensitivity[e], 0) / volume[e] / middle).squareRoot()
                next[e] = Swift.max(
                    0, Swift.max(design[e] - problem.move, Swift.min(1, Swift.min(design[e] + problem.move, step))))
            }
            let physical = filtered(next, transposed: false)
            if physical.reduce(0, +) > target { low = middle } else { high = middle }
        }
        let change = zip(next, design).map { Swift.abs($0 - $1) }.max() ?? 0
        design = next
        densities = filtered(next, transposed: false)
        return (c, change)
    }
}
