#!/usr/bin/env bash
# The consumer test (issue #6): FastCallbacks as a user gets it.
#
# Packs FastCallbacks into a local feed under a unique prerelease version, creates a fresh `dotnet new console`
# project, adds the package from that feed (and TorchSharp-cpu as the libtorch backend), writes two callbacks
# with [On] and one shadowing write, then checks that:
#   - the package holds the runtime (net8.0, net10.0), the generator, analyzers and code fixes, the native fix;
#   - the project imports the native fix from buildTransitive/;
#   - `dotnet build` succeeds and shows FCB0001 with file and line;
#   - `dotnet run` trains and prints the events the callbacks saw (the generated dispatch ran);
#   - removing `partial` fails the build with FCB0002, with file and line;
#   - the code fixes load from the package, as an IDE loads them: `dotnet format` applies FCB0002's fix
#     (add `partial`) and the build succeeds again.
# Prints one line per check and "consumer: N checks passed" at the end; exits non-zero on the first failure.
#
# Only the FastCallbacks package is throwaway: its unique version is removed from the global packages folder at
# the end, so no stale build is ever reused and libtorch is not downloaded again.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Leave no MSBuild nodes or compiler servers running behind the test.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
build_flags=(-nologo -nodeReuse:false -p:UseSharedCompilation=false)

started=$(date +%s)
version="0.1.0-ci.$(date -u +%Y%m%d%H%M%S).$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/fcb-consumer.XXXXXX")"
packages_root="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cleanup() {
  rm -rf "$work" "$packages_root/fastcallbacks/$version"
  rmdir "$packages_root/fastcallbacks" 2>/dev/null || true
}
trap cleanup EXIT

checks=0
pass() { checks=$((checks + 1)); echo "consumer: ok   $*"; }
fail() {
  echo "consumer: FAIL $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then echo "---- $2 (last 60 lines) ----" >&2; tail -n 60 "$2" >&2; fi
  exit 1
}
elapsed() { echo "$(( $(date +%s) - started ))s"; }
# The first line matching $1 in file $2, from the file name on, without MSBuild's " [project]" suffix.
diagnostic() { grep -Eo "$1.*" "$2" | head -1 | sed 's| \[/[^]]*\]$||'; }

echo "consumer: FastCallbacks $version in $work"

# ---- 1. Pack into a local feed (outputs in $work, the repository's bin/ and obj/ are not touched) ----
feed="$work/feed"
dotnet pack "$repo/src/Runtime/FastCallbacks.csproj" -c Release -o "$feed" --artifacts-path "$work/artifacts" \
  -p:Version="$version" "${build_flags[@]}" >"$work/pack.log" 2>&1 || fail "dotnet pack" "$work/pack.log"
nupkg="$feed/FastCallbacks.$version.nupkg"
[ -f "$nupkg" ] || fail "no $nupkg" "$work/pack.log"
[ -f "$feed/FastCallbacks.$version.snupkg" ] || fail "no symbols package (.snupkg)" "$work/pack.log"
pass "dotnet pack made FastCallbacks.$version.nupkg and .snupkg ($(elapsed))"

contents="$(unzip -Z1 "$nupkg")"
for entry in \
  lib/net8.0/FastCallbacks.dll lib/net10.0/FastCallbacks.dll \
  analyzers/dotnet/cs/FastCallbacks.Generators.dll analyzers/dotnet/cs/FastCallbacks.Analyzers.dll \
  analyzers/dotnet/cs/FastCallbacks.Analyzers.CodeFixes.dll \
  buildTransitive/FastCallbacks.targets buildTransitive/ElfWeakVersionPatcher.cs build/FastCallbacks.targets \
  README.md LICENSE; do
  grep -qx "$entry" <<<"$contents" || fail "package lacks $entry; it has:"$'\n'"$contents"
done
nuspec="$(unzip -p "$nupkg" FastCallbacks.nuspec)"
deps="$(grep -o '<dependency id="[^"]*"' <<<"$nuspec" | sort -u | sed 's/<dependency id="//; s/"$//' | tr '\n' ' ')"
grep -qi 'libtorch\|TorchSharp-cpu\|TorchSharp-cuda' <<<"$deps" && fail "package depends on a libtorch backend: $deps"
grep -q 'TorchSharp' <<<"$deps" || fail "package does not depend on TorchSharp: $deps"
grep -q '<repository type="git"' <<<"$nuspec" || fail "nuspec has no repository metadata"
echo "consumer: package contents:"
grep -v -E '^(_rels/|package/|\[Content_Types\])' <<<"$contents" | sed 's/^/consumer:   /'
pass "package layout: lib/net8.0, lib/net10.0, analyzers/dotnet/cs (3 dlls), build/, buildTransitive/, README, LICENSE; dependencies: $deps"

# ---- 2. A fresh console project using the package ----
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="FastCallbacks" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
EOF
app="$work/app"
dotnet new console -n Consumer -o "$app" >"$work/new.log" 2>&1 || fail "dotnet new console" "$work/new.log"
cd "$app"
dotnet add package FastCallbacks --version "$version" --no-restore >"$work/add.log" 2>&1 || fail "dotnet add package FastCallbacks" "$work/add.log"
dotnet add package TorchSharp-cpu --version 0.107.0 >>"$work/add.log" 2>&1 || fail "dotnet add package TorchSharp-cpu" "$work/add.log"
pass "dotnet new console + dotnet add package FastCallbacks $version, TorchSharp-cpu ($(elapsed))"

cat >Program.cs <<'EOF'
using FastCallbacks;
using static TorchSharp.torch;

// Points in the plane, labelled by whether x0 and x1 have the same sign (no straight line separates them).
manual_seed(0);
var x = randn(1024, 2);
var y = x.select(1, 0).mul(x.select(1, 1)).gt(0).to_type(ScalarType.Int64);
using var dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.25, seed: 1);
var model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2));

var seen = new EventLog();
var warmup = new WarmupLr();
using var learn = new Learner(dls, model, nn.CrossEntropyLoss(), lr: 1e-2,
    metrics: [Metrics.Accuracy()], cbs: [seen, warmup]);
learn.Fit(6);

Console.WriteLine($"EventLog saw: {string.Join(" ", seen.Seen)}");
Console.WriteLine($"WarmupLr saw: {warmup.TrainBatches} training batches");
Console.WriteLine($"learner lr after fit: {learn.Lr}");
Console.WriteLine($"final accuracy: {learn.FinalRecord![^1]:F4}");

public partial class EventLog : Callback
{
    public List<string> Seen { get; } = [];

    [On(Event.BeforeFit)]
    [On(Event.AfterEpoch)]
    [On(Event.AfterFit)]
    void Saw(Event e) => Seen.Add(Events.Name(e));
}

public partial class WarmupLr : Callback
{
    public double Lr { get; set; }   // shadows Learner.Lr
    public int TrainBatches { get; private set; }

    [On(Event.BeforeBatch)]
    void Warmup()
    {
        if (Training) TrainBatches++;
        Lr = 1e-3;   // the shadowing write
    }
}
EOF

# ---- 3. dotnet build: FCB0001 with file and line ----
dotnet build "${build_flags[@]}" >"$work/build1.log" 2>&1 || fail "dotnet build" "$work/build1.log"
line=$(grep -n 'Lr = 1e-3;' Program.cs | cut -d: -f1)
grep -Eq "Program\.cs\($line,[0-9]+\): warning FCB0001: 'WarmupLr' declares its own 'Lr'" "$work/build1.log" \
  || fail "no FCB0001 at Program.cs($line,…) in the build output" "$work/build1.log"
pass "dotnet build succeeded with: $(diagnostic "Program\.cs\($line,[0-9]+\): warning FCB0001" "$work/build1.log") ($(elapsed))"

grep -q 'buildTransitive/FastCallbacks.targets' obj/Consumer.csproj.nuget.g.targets \
  || fail "obj/Consumer.csproj.nuget.g.targets does not import buildTransitive/FastCallbacks.targets" obj/Consumer.csproj.nuget.g.targets
if grep -q 'fastcallbacks/[^/]*/build/FastCallbacks.targets' obj/Consumer.csproj.nuget.g.targets; then
  fail "both build/ and buildTransitive/ targets are imported" obj/Consumer.csproj.nuget.g.targets
fi
pass "the direct reference imports buildTransitive/FastCallbacks.targets (and not build/)"

# ---- 4. dotnet run: it trains, and the generated dispatch called the handlers ----
dotnet run --no-build >"$work/run.log" 2>&1 || fail "dotnet run" "$work/run.log"
expected="EventLog saw: before_fit after_epoch after_epoch after_epoch after_epoch after_epoch after_epoch after_fit"
grep -qx "$expected" "$work/run.log" || fail "the run did not print: $expected" "$work/run.log"
batches=$(grep -o 'WarmupLr saw: [0-9]* training batches' "$work/run.log" | grep -o '[0-9]*' || true)
[ "$batches" = "72" ] || fail "WarmupLr saw '$batches' training batches, expected 72 (12 per epoch x 6)" "$work/run.log"
grep -qx 'learner lr after fit: 0.01' "$work/run.log" || fail "the shadowing write changed the learner's Lr" "$work/run.log"
acc=$(grep -o 'final accuracy: [0-9.]*' "$work/run.log" | grep -o '[0-9.]*$' || true)
awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 0.85) }' || fail "final accuracy '$acc' < 0.85: it did not train" "$work/run.log"
if ! grep -q 'GLIBCXX_3\.4\.32' /usr/lib/x86_64-linux-gnu/libstdc++.so.6 2>/dev/null && [ "$(uname -s)" = Linux ]; then
  echo "consumer: note this machine's libstdc++ lacks GLIBCXX_3.4.32: TorchSharp loaded thanks to the package's native fix"
fi
pass "dotnet run trained (accuracy $acc) and printed: $expected; WarmupLr saw $batches training batches; learner lr stayed 0.01 ($(elapsed))"

# ---- 5. Without `partial`: FCB0002 fails the build ----
sed -i 's/^public partial class WarmupLr : Callback/public class WarmupLr : Callback/' Program.cs
grep -q '^public class WarmupLr : Callback' Program.cs || fail "could not remove partial"
if dotnet build "${build_flags[@]}" >"$work/build2.log" 2>&1; then fail "the build succeeded without partial" "$work/build2.log"; fi
line=$(grep -n '^public class WarmupLr' Program.cs | cut -d: -f1)
grep -Eq "Program\.cs\($line,[0-9]+\): error FCB0002" "$work/build2.log" \
  || fail "no FCB0002 error at Program.cs($line,…)" "$work/build2.log"
pass "without partial, dotnet build failed with: $(diagnostic "Program\.cs\($line,[0-9]+\): error FCB0002" "$work/build2.log") ($(elapsed))"

# ---- 6. The code fixes load from the package (through Roslyn's workspaces, as in an IDE) ----
dotnet format analyzers --diagnostics FCB0002 --severity error --no-restore >"$work/format.log" 2>&1 \
  || fail "dotnet format (FCB0002 code fix)" "$work/format.log"
grep -q '^public partial class WarmupLr : Callback' Program.cs || fail "the FCB0002 code fix did not add partial" "$work/format.log"
dotnet build "${build_flags[@]}" >"$work/build3.log" 2>&1 || fail "dotnet build after the code fix" "$work/build3.log"
pass "the FCB0002 code fix from the package (dotnet format) added partial back, and the build succeeds ($(elapsed))"

echo "consumer: $checks checks passed in $(elapsed)"
