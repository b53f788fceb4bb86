#!/usr/bin/env bash
# The consumer test (issue #6): FastCallbacks as a user gets it.
#
# Packs FastCallbacks into a local feed under its git-derived version (MinVer, plus the .local.<time> every local
# pack gets: docs/packaging.md), creates a fresh `dotnet new console` project, adds the package from that feed as
# docs/getting-started.md says (and TorchSharp-cpu as the libtorch backend), writes two callbacks with [On] and one
# shadowing write, then checks that:
#   - the package version is MinVer's for this commit, and the assembly inside carries it with the commit;
#   - the package holds the runtime (net8.0, net10.0), the generator, analyzers and code fixes, the native fix;
#   - the project imports the native fix from buildTransitive/;
#   - `dotnet build` succeeds and shows FCB0001 with file and line;
#   - `dotnet run` trains and prints the events the callbacks saw (the generated dispatch ran);
#   - removing `partial` fails the build with FCB0002, with file and line;
#   - the code fixes load from the package, as an IDE loads them: `dotnet format` applies FCB0002's fix
#     (add `partial`) and the build succeeds again;
#   - a second pack after a change (in a clone of the repository) gets a newer version, `dotnet add package
#     --prerelease` picks it, and the app runs the changed build, not the copy of the first in the NuGet cache;
#   - a tag vX.Y.Z makes the release version X.Y.Z, and the commit after it X.Y.(Z+1)-alpha.0.1;
#   - every C# block of docs/getting-started.md builds and runs as the app's Program.cs.
# Prints one line per check and "consumer: N checks passed" at the end; exits non-zero on the first failure.
#
# Only the FastCallbacks packages are throwaway: their versions are removed from the global packages folder at
# the end, so no stale build is ever reused and libtorch is not downloaded again.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Leave no MSBuild nodes or compiler servers running behind the test.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
build_flags=(-nologo -nodeReuse:false -p:UseSharedCompilation=false)

started=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/fcb-consumer.XXXXXX")"
packages_root="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
version=""
version2=""
cleanup() {
  rm -rf "$work"
  for v in "$version" "$version2"; do [ -n "$v" ] && rm -rf "$packages_root/fastcallbacks/$v"; done
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

echo "consumer: in $work"

# The version `dotnet pack` of $1 (a FastCallbacks.csproj) wrote into feed $2: the one package there named in the log.
packed_version() {
  grep -o "Successfully created package '[^']*/FastCallbacks\.[^']*\.nupkg'" "$1" | head -1 \
    | sed "s|.*/FastCallbacks\.||; s|\.nupkg'\$||"
}

# ---- 1. Pack into a local feed, version from git (outputs in $work, the repository's bin/ and obj/ are not touched) ----
feed="$work/feed"
dotnet pack "$repo/src/Runtime/FastCallbacks.csproj" -c Release -o "$feed" --artifacts-path "$work/artifacts" \
  "${build_flags[@]}" >"$work/pack.log" 2>&1 || fail "dotnet pack" "$work/pack.log"
version="$(packed_version "$work/pack.log")"
nupkg="$feed/FastCallbacks.$version.nupkg"
[ -n "$version" ] && [ -f "$nupkg" ] || fail "no FastCallbacks.<version>.nupkg in $feed" "$work/pack.log"
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

# ---- 2. A fresh console project using the package, added as getting-started.md says ----
app="$work/app"
dotnet new console -n Consumer -o "$app" >"$work/new.log" 2>&1 || fail "dotnet new console" "$work/new.log"
cd "$app"
{
  dotnet new nugetconfig &&
  dotnet nuget add source "$feed" --name fastcallbacks-local --configfile nuget.config &&
  dotnet add package FastCallbacks --prerelease &&
  dotnet add package TorchSharp-cpu --version 0.107.0
} >"$work/add.log" 2>&1 || fail "dotnet new nugetconfig, dotnet nuget add source, dotnet add package" "$work/add.log"
grep -q "<PackageReference Include=\"FastCallbacks\" Version=\"$version\"" Consumer.csproj \
  || fail "dotnet add package FastCallbacks --prerelease did not add $version: $(grep FastCallbacks Consumer.csproj)" "$work/add.log"
pass "dotnet new console, nugetconfig, nuget add source, add package FastCallbacks --prerelease ($version), TorchSharp-cpu ($(elapsed))"

cat >Program.cs <<'EOF'
using System.Reflection;
using FastCallbacks;
using static TorchSharp.torch;

var runtime = typeof(Learner).Assembly;
Console.WriteLine($"FastCallbacks assembly: {runtime.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}");
Console.WriteLine($"probe: {runtime.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "ConsumerProbe")?.Value ?? "none"}");

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

# The version is git's: MinVer's for this commit (X.Y.Z for a tag vX.Y.Z, else X.Y.Z-alpha.0.<height>), which the
# assembly carries with the commit (+sha), and the package adds .local.<UTC time to the ms> to it.
commit="$(git -C "$repo" rev-parse HEAD)"
informational="$(grep -o '^FastCallbacks assembly: .*' "$work/run.log" | sed 's/^FastCallbacks assembly: //')"
minver="${informational%+*}"
[ "${informational#*+}" = "$commit" ] || fail "the assembly's version '$informational' does not name the commit $commit" "$work/run.log"
[[ "$minver" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-alpha\.0\.[0-9]+)?$ ]] || fail "the assembly's version '$minver' is not MinVer's" "$work/run.log"
case "$minver" in *-*) stamp="${version#"$minver".local.}" ;; *) stamp="${version#"$minver"-local.}" ;; esac
[[ "$stamp" =~ ^[0-9]{17}$ ]] || fail "package version $version is not $minver plus .local.<17-digit UTC time>"
grep -qx "probe: none" "$work/run.log" || fail "the first pack has a probe" "$work/run.log"
pass "the version is git's: the assembly is $minver+${commit:0:12}, the package $version"

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

# ---- 7. A second pack after a change is the one restored ----
# The same commit and working tree plus one change, as when a developer edits and packs again: with a fixed version
# (0.1.0 before issue 16) NuGet would restore the first pack's copy from its cache.
clone="$work/repo2"
git clone -q "$repo" "$clone" >"$work/clone.log" 2>&1 || fail "git clone $repo" "$work/clone.log"
git -C "$clone" checkout -q "$commit" >>"$work/clone.log" 2>&1 || fail "git checkout $commit" "$work/clone.log"
# The working tree as it is (uncommitted edits and new files too), not only the commit.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) \
  | (cd "$repo" && tar --null -T - --ignore-failed-read -cf - 2>>"$work/clone.log") | tar -xf - -C "$clone" \
  || fail "copying the working tree into the clone" "$work/clone.log"
probe="probe-$(date -u +%s%N)"
printf '[assembly: System.Reflection.AssemblyMetadata("ConsumerProbe", "%s")]\n' "$probe" >"$clone/src/Runtime/ConsumerProbe.cs"
dotnet pack "$clone/src/Runtime/FastCallbacks.csproj" -c Release -o "$feed" --artifacts-path "$work/artifacts2" \
  "${build_flags[@]}" >"$work/pack2.log" 2>&1 || fail "the second dotnet pack" "$work/pack2.log"
version2="$(packed_version "$work/pack2.log")"
[ -n "$version2" ] && [ "$version2" != "$version" ] || fail "the second pack is version '$version2', the first was $version" "$work/pack2.log"
[[ "$version2" == "${version%.*}."* ]] || fail "the second pack $version2 is not MinVer's version of the first ($version) with a new time" "$work/pack2.log"
dotnet add package FastCallbacks --prerelease >"$work/add2.log" 2>&1 || fail "dotnet add package FastCallbacks --prerelease" "$work/add2.log"
grep -q "<PackageReference Include=\"FastCallbacks\" Version=\"$version2\"" Consumer.csproj \
  || fail "dotnet add package --prerelease did not pick the second pack $version2: $(grep FastCallbacks Consumer.csproj)" "$work/add2.log"
dotnet run "${build_flags[@]}" >"$work/run2.log" 2>&1 || fail "dotnet run with the second pack" "$work/run2.log"
grep -qx "probe: $probe" "$work/run2.log" || fail "the app did not run the second pack's build (no 'probe: $probe')" "$work/run2.log"
pass "a second pack after a change is $version2 (newer than $version); --prerelease picked it and the app ran it ($(elapsed))"

# ---- 8. A tag makes a release version (in the clone: its own tag, its own commit) ----
# The version `dotnet pack` would give the package with ContinuousIntegrationBuild=$1 (restored in the clone's own
# obj/: the pack above kept its outputs under $work).
package_version() {
  dotnet msbuild "$clone/src/Runtime/FastCallbacks.csproj" -restore -nologo -nodeReuse:false -t:MinVer -p:_IsPacking=true \
    -p:ContinuousIntegrationBuild="$1" -getProperty:PackageVersion >"$work/version.out" 2>>"$work/tag.log" \
    || { cat "$work/version.out" >>"$work/tag.log"; return 1; }
  tr -d '[:space:]' <"$work/version.out"
}
git -C "$clone" tag v9.8.7 >"$work/tag.log" 2>&1 || fail "git tag v9.8.7 in the clone" "$work/tag.log"
release="$(package_version true)" || fail "dotnet msbuild -t:MinVer in the clone" "$work/tag.log"
[ "$release" = "9.8.7" ] || fail "on a commit tagged v9.8.7 a release build packs '$release', not 9.8.7" "$work/tag.log"
tagged_local="$(package_version false)" || fail "dotnet msbuild -t:MinVer in the clone" "$work/tag.log"
[[ "$tagged_local" =~ ^9\.8\.7-local\.[0-9]{17}$ ]] || fail "on a commit tagged v9.8.7 a local pack is '$tagged_local', not 9.8.7-local.<time>" "$work/tag.log"
git -C "$clone" -c user.name=consumer-test -c user.email=consumer-test@localhost commit -q --allow-empty -m "after the tag" >>"$work/tag.log" 2>&1 \
  || fail "git commit in the clone" "$work/tag.log"
after="$(package_version true)" || fail "dotnet msbuild -t:MinVer in the clone" "$work/tag.log"
[ "$after" = "9.8.8-alpha.0.1" ] || fail "one commit after the tag v9.8.7 a release build packs '$after', not 9.8.8-alpha.0.1" "$work/tag.log"
pass "a tag v9.8.7 makes the release version $release (a local pack: $tagged_local); the commit after it is $after"

# ---- 9. getting-started.md runs as written, each C# block as Program.cs of the fresh app ----
blocks="$work/getting-started"
mkdir -p "$blocks"
awk -v dir="$blocks" '
  /^```csharp[[:space:]]*$/ { n++; file = sprintf("%s/%02d.cs", dir, n); inside = 1; next }
  inside && /^```[[:space:]]*$/ { inside = 0; next }
  inside { print > file }
' "$repo/docs/getting-started.md"
count=$(find "$blocks" -name '*.cs' | wc -l)
[ "$count" -ge 2 ] || fail "found $count C# blocks in docs/getting-started.md"
for block in "$blocks"/*.cs; do
  cp "$block" Program.cs
  name="getting-started.md block $(basename "$block" .cs)"
  dotnet run "${build_flags[@]}" >"$work/gs.log" 2>&1 || fail "$name does not build and run as written" "$work/gs.log"
  grep -q 'accuracy' "$work/gs.log" || fail "$name printed no accuracy" "$work/gs.log"
done
pass "the $count C# blocks of getting-started.md build and run as Program.cs of the fresh app ($(elapsed))"

echo "consumer: $checks checks passed in $(elapsed)"
