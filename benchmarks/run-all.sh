#!/usr/bin/env bash
# The full measurement behind docs/benchmarks.md: two BenchmarkDotNet runs of everything (out of process),
# cold start in fresh processes (JIT and ReadyToRun), the trim check, the dispatch and generator variants timed
# round-robin, then the doc regenerated from their output.
# Takes about half an hour on two cores; run it when the machine is quiet. Usage: bash benchmarks/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=artifacts/benchmarks
project=benchmarks/FastCallbacks.Benchmarks
rm -rf "$out/run1" "$out/run2"
for run in run1 run2; do
  dotnet run -c Release --project "$project" -- --filter '*' --artifacts "$out/$run"
done
bash benchmarks/coldstart.sh "$out/coldstart.tsv"
bash benchmarks/trimcheck.sh "$out/trim.txt" || echo "trim check: FastCallbacks has trim warnings (see $out/trim.txt)" >&2
dotnet run -c Release --project "$project" -- --interleaved 40 > "$out/interleaved.txt"
dotnet run -c Release --project "$project" -- --generators-interleaved 20 > "$out/generators.txt"
dotnet run -c Release --project "$project" -- --report docs/benchmarks.md \
  --runs "$out/run1" "$out/run2" --coldstart "$out/coldstart.tsv" --trim "$out/trim.txt" --anatomy "$out/interleaved.txt" \
  --generators "$out/generators.txt"
