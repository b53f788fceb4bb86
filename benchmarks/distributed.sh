#!/usr/bin/env bash
# The distributed benchmark: the gradient reduction per step against the parameter count (1M, 10M) and the bucket size,
# and the whole training step's overhead over one process at the same per-rank batch; 2 ranks under MPICH's mpiexec,
# loopback only (UCX over shared memory), bounded by a timeout. Writes a TSV that benchmarks/run-all.sh puts into
# docs/benchmarks.md. --smoke (CI, via .ci/bench-smoke): small sizes, the checks only.
# Usage: bash benchmarks/distributed.sh [--smoke] [OUT=artifacts/benchmarks/distributed.tsv]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=""
if [ "${1:-}" = "--smoke" ]; then mode="--smoke"; shift; fi
out="${1:-artifacts/benchmarks/distributed.tsv}"
launcher="${FASTCALLBACKS_MPIEXEC:-$(command -v mpiexec.mpich || true)}"
if [ -z "$launcher" ]; then
  if [ "${FASTCALLBACKS_REQUIRE_MPI:-}" = "1" ]; then
    echo "distributed benchmark: FAILED, MPICH's mpiexec.mpich is not installed (apt-get install mpich)" >&2
    exit 1
  fi
  echo "distributed benchmark: skipped, MPI is not installed (apt-get install mpich to run it)"
  exit 0
fi
project=benchmarks/FastCallbacks.Distributed.Benchmarks
dotnet build -c Release "$project" -v q -nologo
limit=1800
[ -n "$mode" ] && limit=300
DOTNET_TieredCompilation=0 UCX_TLS=self,sm timeout -k 10 "$limit" "$launcher" -iface lo -n 2 \
  dotnet "$project/bin/Release/net10.0/FastCallbacks.Distributed.Benchmarks.dll" $mode --out "$out"
