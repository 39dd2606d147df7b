#!/usr/bin/env bash
# Checks the C kernel layer (Sources/CInertiaKernels) outside Swift, with Tests/CKernelCheck:
#   1. natively, every instruction set this CPU supports against scalar references;
#   2. cross-compiled for arm64 (aarch64-linux-gnu, Debian's cross libc) and run under
#      qemu-aarch64, where the baseline table is the NEON one;
# and that no Swift source uses x86-only API (intrinsics, the x86 intrinsics module) outside
# `#if arch(x86_64)`. Needs clang (the Swift toolchain's), and for step 2 the Debian packages
# gcc-aarch64-linux-gnu and qemu-user; without them step 2 fails with a message saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
clang="${CLANG:-clang}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
sources=(Tests/CKernelCheck/kernel_check.c Sources/CInertiaKernels/*.c)

echo "C kernels, native ($(uname -m)):"
"$clang" -O2 -Wall -Wextra -Werror -ISources/CInertiaKernels/include "${sources[@]}" -lm -o "$out/native"
"$out/native"

if [ "$(uname -m)" = x86_64 ]; then
    echo "C kernels, arm64 under qemu-aarch64:"
    if ! command -v qemu-aarch64 >/dev/null || [ ! -d /usr/aarch64-linux-gnu/include ]; then
        echo "missing qemu-aarch64 or the aarch64 cross libc: apt-get install qemu-user gcc-aarch64-linux-gnu" >&2
        exit 1
    fi
    "$clang" --target=aarch64-linux-gnu -O2 -Wall -Wextra -Werror -ISources/CInertiaKernels/include "${sources[@]}" \
        -lm -static -o "$out/arm64"
    qemu-aarch64 "$out/arm64"
fi

echo "Swift sources: x86-only API only under #if arch(x86_64):"
python3 - <<'PY'
import pathlib, re, sys
x86 = re.compile(r"\b(_mm\d*_\w+|__m(128|256|512)\w*|_Builtin_intrinsics\.intel)\b|import\s+_Builtin_intrinsics")
bad = []
for path in sorted(pathlib.Path("Sources").rglob("*.swift")):
    stack = []  # one entry per open #if: whether it is an x86-64-only branch
    for number, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        if s.startswith("#if"):
            stack.append("arch(x86_64)" in s and "!" not in s)
        elif s.startswith("#else") or s.startswith("#elseif"):
            if stack:
                stack[-1] = "arch(x86_64)" in s and "!" not in s
        elif s.startswith("#endif"):
            if stack:
                stack.pop()
        elif x86.search(line) and not any(stack):
            bad.append("%s:%d: %s" % (path, number, s))
for b in bad:
    print("x86-only API outside #if arch(x86_64):", b)
print("%d Swift files checked, %d violations" % (len(list(pathlib.Path("Sources").rglob("*.swift"))), len(bad)))
sys.exit(1 if bad else 0)
PY
