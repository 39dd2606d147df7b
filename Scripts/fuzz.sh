#!/usr/bin/env bash
# Fuzzes every parser of untrusted input (Fuzz/: safetensors, checkpoints and optimizer state,
# IDX, gzip, the CSV of `train` and of `ot`) with libFuzzer and AddressSanitizer.
#   Scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 10; CI gives each target 10 s, a minute in all)
# Each target first replays Fuzz/Regressions/<target>/ (every crashing input found so far), then
# fuzzes for the given time from a copy of its seed corpus Fuzz/Corpus/<target>/. A crash fails
# the script; libFuzzer writes its input into Fuzz/Regressions/<target>/: fix the bug and commit
# the input, which then runs on every call.
# The flags are given here, on the command line, never in a manifest. SwiftPM defines `main` of an
# executable as `<Target>_main`, libFuzzer brings its own: --allow-multiple-definition lets the
# link through, and both entry points lead to the target (see Fuzz/Sources/FuzzDriver).
set -euo pipefail
seconds=${1:-10}
cd "$(dirname "$0")/../Fuzz"
targets=(FuzzSafeTensors FuzzCheckpoint FuzzIDX FuzzGzip FuzzTrainingCSV FuzzTransportCSV)
flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xlinker --allow-multiple-definition)
for target in "${targets[@]}"; do
    swift build "${flags[@]}" --product "$target" 2>&1 | grep -E "error|warning: unre|Build" || true
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "fuzz: building $target failed" >&2; exit 1; }
done
bin=$(swift build "${flags[@]}" --show-bin-path)
export SWIFT_BACKTRACE=enable=no
failed=()
for target in "${targets[@]}"; do
    mkdir -p "Regressions/$target"
    options=(-rss_limit_mb=2048 -max_len=8192 -timeout=10 -print_final_stats=1 "-artifact_prefix=Regressions/$target/")
    mapfile -t regressions < <(find "Regressions/$target" -type f ! -name '.*' | sort)
    if [ "${#regressions[@]}" -gt 0 ] && ! "$bin/$target" "${options[@]}" "${regressions[@]}" >"/tmp/inertia-fuzz-$target.log" 2>&1; then
        echo "fuzz: $target crashes on a regression input (log: /tmp/inertia-fuzz-$target.log)" >&2
        failed+=("$target")
        continue
    fi
    work=$(mktemp -d)
    cp "Corpus/$target/"* "$work/"
    if "$bin/$target" "${options[@]}" -max_total_time="$seconds" "$work" >"/tmp/inertia-fuzz-$target.log" 2>&1; then
        echo "fuzz: $target: $(grep -E '^stat::number_of_executed_units' "/tmp/inertia-fuzz-$target.log" | awk '{print $2}') inputs in ${seconds} s, ${#regressions[@]} regression inputs, no crash"
    else
        echo "fuzz: $target crashed; the input is in Fuzz/Regressions/$target/ (log: /tmp/inertia-fuzz-$target.log)" >&2
        grep -E "ERROR|Fatal error|SUMMARY" "/tmp/inertia-fuzz-$target.log" | head -5 >&2 || true
        failed+=("$target")
    fi
    rm -rf "$work"
done
[ "${#failed[@]}" = 0 ] || { echo "fuzz: failures in ${failed[*]}" >&2; exit 1; }
