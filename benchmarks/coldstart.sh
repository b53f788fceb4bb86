#!/usr/bin/env bash
# Cold start in fresh processes: the FastCallbacks.ColdStart app, built normally (JIT) and published
# ReadyToRun, each mode (generated, reflection) run ROUNDS times, alternating. Appends one line per process to
# OUT: build, mode, first call µs, second call µs, handler calls, and the same two calls in µs of CPU time.
# Usage: bash benchmarks/coldstart.sh [OUT=artifacts/benchmarks/coldstart.tsv] [ROUNDS=7]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-artifacts/benchmarks/coldstart.tsv}"
rounds="${2:-7}"
project=benchmarks/FastCallbacks.ColdStart
r2r=artifacts/benchmarks/coldstart-r2r
mkdir -p "$(dirname "$out")"

dotnet build -c Release "$project" -v q -nologo
jit="$project/bin/Release/net10.0"
# ReadyToRun: the app, FastCallbacks and TorchSharp precompiled (the folder holds libtorch: removed below).
dotnet publish -c Release "$project" -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$r2r" -v q -nologo

printf 'build\tmode\tfirst_us\tsecond_us\tcalls\tfirst_cpu_us\tsecond_cpu_us\n' > "$out"
for _ in $(seq "$rounds"); do
  for build in jit r2r; do
    dir=$jit; [ "$build" = r2r ] && dir=$r2r
    for mode in generated reflection; do
      line=$(dotnet "$dir/FastCallbacks.ColdStart.dll" "$mode")
      printf '%s\t%s\n' "$build" "$line" | tee -a "$out"
    done
  done
done
rm -rf "$r2r"
