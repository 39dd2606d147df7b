"""Peer figure for `inertia bench simp`: one iteration of the 88-line SIMP code (Andreassen et al.
2011) in numpy/scipy, as its usual Python port writes it: K assembled as a scipy sparse matrix,
`scipy.sparse.linalg.spsolve` on the free DOFs, the density filter as a sparse matrix, the OC
bisection. Half MBB beam (top88's default supports and load), 120 x 60 elements, volume fraction
0.5, penalty 3, rmin 1.5. The timed iteration is the second (after one from the uniform start).

Usage: python top88_scipy.py [--nelx 120] [--nely 60] [--min-time 1.0]
Prints one JSON line with the same fields as `inertia bench simp`.
"""
import argparse
import os
import time

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve
from peer_line import print_line


def element_stiffness(nu):
    a11 = np.array([[12, 3, -6, -3], [3, 12, 3, 0], [-6, 3, 12, -3], [-3, 0, -3, 12]], float)
    a12 = np.array([[-6, -3, 0, 3], [-3, -6, -3, -6], [0, -3, -6, 3], [3, -6, 3, -6]], float)
    b11 = np.array([[-4, 3, -2, 9], [3, -4, -9, 4], [-2, -9, -4, -3], [9, 4, -3, -4]], float)
    b12 = np.array([[2, -3, 4, -9], [-3, 2, 9, -2], [4, 9, 2, 3], [-9, -2, 3, 2]], float)
    a = np.block([[a11, a12], [a12.T, a11]])
    b = np.block([[b11, b12], [b12.T, b11]])
    return (a + nu * b) / (24 * (1 - nu * nu))


class Top88:
    def __init__(self, nelx, nely, volfrac, penal=3.0, rmin=1.5):
        self.nelx, self.nely, self.volfrac, self.penal = nelx, nely, volfrac, penal
        self.ke = element_stiffness(0.3)
        nodenrs = np.arange((1 + nelx) * (1 + nely)).reshape(1 + nelx, 1 + nely)
        edofvec = (2 * nodenrs[:-1, :-1] + 2).reshape(-1)
        offsets = np.array([0, 1, 2 * nely + 2, 2 * nely + 3, 2 * nely, 2 * nely + 1, -2, -1])
        self.edof = edofvec[:, None] + offsets[None, :]
        self.ik = np.kron(self.edof, np.ones((8, 1), int)).reshape(-1)
        self.jk = np.kron(self.edof, np.ones((1, 8), int)).reshape(-1)
        ndof = 2 * (nelx + 1) * (nely + 1)
        self.f = np.zeros(ndof)
        self.f[1] = -1
        fixed = np.union1d(np.arange(0, 2 * (nely + 1), 2), [ndof - 1])
        self.free = np.setdiff1d(np.arange(ndof), fixed)
        rows, cols, vals = [], [], []
        reach = int(np.ceil(rmin)) - 1
        for ex in range(nelx):
            for ey in range(nely):
                for fx in range(max(ex - reach, 0), min(ex + reach, nelx - 1) + 1):
                    for fy in range(max(ey - reach, 0), min(ey + reach, nely - 1) + 1):
                        w = max(0.0, rmin - np.hypot(ex - fx, ey - fy))
                        if w > 0:
                            rows.append(ex * nely + ey)
                            cols.append(fx * nely + fy)
                            vals.append(w)
        self.h = sp.coo_matrix((vals, (rows, cols)), shape=(nelx * nely, nelx * nely)).tocsr()
        self.hs = np.asarray(self.h.sum(1)).reshape(-1)
        self.x = np.full(nelx * nely, volfrac)
        self.xphys = self.x.copy()
        self.ndof = ndof

    def iterate(self):
        e0, emin, p = 1.0, 1e-9, self.penal
        sk = (self.ke.reshape(-1)[None, :] * (emin + self.xphys[:, None] ** p * (e0 - emin))).reshape(-1)
        k = sp.coo_matrix((sk, (self.ik, self.jk)), shape=(self.ndof, self.ndof)).tocsc()
        k = k[self.free, :][:, self.free]
        u = np.zeros(self.ndof)
        u[self.free] = spsolve(k, self.f[self.free])
        ue = u[self.edof]
        ce = np.einsum("ij,jk,ik->i", ue, self.ke, ue)
        c = float(((emin + self.xphys ** p * (e0 - emin)) * ce).sum())
        dc = -p * (e0 - emin) * self.xphys ** (p - 1) * ce
        dv = np.ones_like(self.x)
        dc = self.h @ (dc / self.hs)
        dv = self.h @ (dv / self.hs)
        l1, l2, move = 0.0, 1e9, 0.2
        target = self.volfrac * self.x.size
        while (l2 - l1) / (l1 + l2) > 1e-3:
            lmid = 0.5 * (l1 + l2)
            xnew = np.maximum(0, np.maximum(self.x - move, np.minimum(1, np.minimum(
                self.x + move, self.x * np.sqrt(np.maximum(-dc, 0) / dv / lmid)))))
            xphys = (self.h @ xnew) / self.hs
            if xphys.sum() > target:
                l1 = lmid
            else:
                l2 = lmid
        self.x, self.xphys = xnew, xphys
        return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nelx", type=int, default=120)
    ap.add_argument("--nely", type=int, default=60)
    ap.add_argument("--min-time", type=float, default=1.0)
    args = ap.parse_args()
    load_start = os.getloadavg()
    times, compliance = [], None
    deadline = time.perf_counter() + args.min_time
    while len(times) < 3 or time.perf_counter() < deadline:
        model = Top88(args.nelx, args.nely, 0.5)
        model.iterate()
        start = time.perf_counter()
        compliance = model.iterate()
        times.append(time.perf_counter() - start)
    times.sort()
    results = {"1thr": {"seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
                        "compliance": compliance}}
    print_line("simp", [1], load_start, results, {"numpy": np.__version__, "scipy": scipy.__version__},
               impl="scipy", nelx=args.nelx, nely=args.nely)


if __name__ == "__main__":
    main()
