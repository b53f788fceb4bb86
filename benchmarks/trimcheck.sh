#!/usr/bin/env bash
# Trim check: publishes benchmarks/FastCallbacks.TrimCheck trimmed (FastCallbacks rooted whole, every warning
# in detail) and writes to OUT the publish command, the number of trim warnings from FastCallbacks' own code
# (src/Runtime and the generated dispatch) and from other assemblies, and the FastCallbacks warnings themselves.
# Exits 1 when FastCallbacks has any. Usage: bash benchmarks/trimcheck.sh [OUT=artifacts/benchmarks/trim.txt]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-artifacts/benchmarks/trim.txt}"
dir=artifacts/benchmarks/trimcheck
mkdir -p "$(dirname "$out")"
log=$(mktemp)
cmd="dotnet publish benchmarks/FastCallbacks.TrimCheck -c Release -o $dir"
# Warnings are reported only when the trimmer actually runs: start from a clean intermediate folder.
rm -rf benchmarks/FastCallbacks.TrimCheck/obj/Release benchmarks/FastCallbacks.TrimCheck/bin/Release
$cmd -nologo -clp:NoSummary > "$log" 2>&1 || { cat "$log"; echo "trim check: publish failed" >&2; exit 1; }
warnings=$(grep -E 'warning IL[0-9]+' "$log" | sort -u || true)
# A warning names the member it is in ("warning IL2075: TorchSharp.torch.nn.Module._toEpilog(...): ..."). Those in
# TorchSharp or the framework are not ours; every other one (FastCallbacks, its generated dispatch, the app) is.
ours=$(printf '%s\n' "$warnings" | grep -vE 'warning IL[0-9]+: (TorchSharp|System|Microsoft|Google)\.' | grep -v '^$' || true)
count() { printf '%s\n' "$1" | grep -c 'warning IL' || true; }
{
  echo "command: $cmd"
  echo "fastcallbacks_warnings: $(count "$ours")"
  echo "other_warnings: $(( $(count "$warnings") - $(count "$ours") ))"
  printf '%s\n' "$ours" | grep -v '^$' || true
} > "$out"
cat "$out"
rm -rf "$dir" "$log"
[ "$(count "$ours")" -eq 0 ]
