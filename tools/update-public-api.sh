#!/usr/bin/env bash
# Brings PublicAPI.Unshipped.txt up to date with the code, for the packages under src/ (CONTRIBUTING.md, "Public API").
#
#   bash tools/update-public-api.sh                  every tracked project under src/
#   bash tools/update-public-api.sh src/Interactive  the projects named (a folder or a .csproj)
#
# It compiles each project once (its own configuration, PublicApi, so Debug and Release outputs are left alone), with
# warnings not as errors, and reads the public API analyzer's messages, which quote each entry exactly:
#   RS0016 (a public or protected member with no entry): the entry is added to PublicAPI.Unshipped.txt;
#   RS0017 (an entry whose member is gone): deleted from PublicAPI.Unshipped.txt, or, for a member that was in
#          PublicAPI.Shipped.txt (released), recorded as *REMOVED*<entry> in PublicAPI.Unshipped.txt, the analyzer's way;
#   RS0036 (a member once oblivious, a ~ entry, now annotated): its ~ entry replaced by the annotated one.
# Entries the IDE's RS0016 fix or `dotnet format analyzers --diagnostics RS0016` would write, and also those of the
# members the generator writes (a callback class that is not sealed gets public overrides), which they skip. A missing
# pair of files is created. The files stay sorted as the code fix sorts them. Review the result with `git diff`.
# RS0026 (two overloads with optional parameters) and RS0041 (a member declared under #nullable disable) have no entry
# to write: they are listed, and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

projects=()
if [ $# -eq 0 ]; then
  for p in src/*/*.csproj; do
    # Tracked: what Directory.Build.targets gives the analyzer (not the generator and analyzers, not unpackable ones).
    grep -q '<IsRoslynComponent>true</IsRoslynComponent>' "$p" && continue
    grep -q '<IsPackable>false</IsPackable>' "$p" && continue
    projects+=("$p")
  done
else
  for a in "$@"; do
    if [ -d "$a" ]; then
      found=("$a"/*.csproj)
      [ -f "${found[0]}" ] || { echo "no .csproj in $a" >&2; exit 2; }
      projects+=("${found[0]}")
    elif [ -f "$a" ]; then
      projects+=("$a")
    else
      echo "not a project or folder: $a" >&2; exit 2
    fi
  done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/found"
: > "$work/unfixed"

header='#nullable enable'
for proj in "${projects[@]}"; do
  dir=$(cd "$(dirname "$proj")" && pwd)
  # A new package: the pair of files, tracking nullable annotations from the start (RS0037).
  for f in Shipped Unshipped; do
    [ -f "$dir/PublicAPI.$f.txt" ] || printf '%s\n' "$header" > "$dir/PublicAPI.$f.txt"
  done
  echo "compiling $proj"
  if ! dotnet build "$proj" -c PublicApi --no-incremental -tl:off -nologo -clp:NoSummary \
      -p:TreatWarningsAsErrors=false > "$work/build.log" 2>&1; then
    grep -E ': error ' "$work/build.log" | sort -u >&2 || tail -30 "$work/build.log" >&2
    echo "$proj does not compile; fix that first." >&2
    exit 1
  fi
  # <rule> TAB <project> TAB <target framework> TAB <entry>, for this project and the src/ projects it references.
  sed -nE \
    -e "s/.*: warning (RS0016): Symbol '(.*)' is not part of the declared public API .*\[([^]]*\.csproj)(::TargetFramework=([^]]*))?\]\$/\1\t\3\t\5\t\2/p" \
    -e "s/.*: warning (RS0017): Symbol '(.*)' is part of the declared API, but is either not public or could not be found.*\[([^]]*\.csproj)(::TargetFramework=([^]]*))?\]\$/\1\t\3\t\5\t\2/p" \
    -e "s/.*: warning (RS0036): Symbol '(.*)' is missing nullability annotations in the declared API.*\[([^]]*\.csproj)(::TargetFramework=([^]]*))?\]\$/\1\t\3\t\5\t\2/p" \
    "$work/build.log" >> "$work/found"
  # RS0026 (overloads that both have optional parameters) and RS0041 (oblivious reference types, code under
  # #nullable disable) are for the code to fix, not entries to write: said, not fixed.
  # Paths relative to the repository, the generator's files (deleted with the scan's outputs) named once for all frameworks.
  grep -E ': warning RS00(26|41): ' "$work/build.log" | sed -E -e 's/ \(https:[^)]*\)//; s/ \[[^]]*\]$//; s/^ +//' \
    -e "s|^$(pwd)/||; s|obj/PublicApi/[^/]+/FastCallbacks\.Generators/[^/]+/|(generated) |" | sort -u >> "$work/unfixed" || true
done
# The PublicApi configuration's outputs (of these projects and those they reference) were only for this scan.
for d in src/*/; do rm -rf "${d}bin/PublicApi" "${d}obj/PublicApi"; done

sort -u "$work/found" -o "$work/found"
status=0
while IFS= read -r csproj; do
  dir=$(dirname "$csproj")
  shipped="$dir/PublicAPI.Shipped.txt" unshipped="$dir/PublicAPI.Unshipped.txt"
  for f in Shipped Unshipped; do
    [ -f "$dir/PublicAPI.$f.txt" ] || printf '%s\n' "$header" > "$dir/PublicAPI.$f.txt"
  done
  # One pair of files serves every target framework while the surface is the same in all of them; a member found in
  # only some of them needs files per framework (docs/packaging.md, "Public API"), which this script does not write.
  tfms=$(dotnet msbuild "$csproj" -getProperty:TargetFrameworks 2>/dev/null | tr ';' '\n' | grep -c . || true)
  if [ "$tfms" -gt 1 ]; then
    uneven=$(awk -F'\t' -v p="$csproj" -v n="$tfms" '$2 == p { c[$1 "\t" $4]++ } END { for (k in c) if (c[k] < n) print k }' "$work/found")
    if [ -n "$uneven" ]; then
      echo "$csproj: these differ between its target frameworks, so one PublicAPI.*.txt pair cannot hold them:" >&2
      printf '  %s\n' "$uneven" >&2
      echo "  Split the files per framework as docs/packaging.md says, then add these entries by hand." >&2
      status=1
      continue
    fi
  fi
  added=0 removed=0 annotated=0
  while IFS= read -r entry; do
    grep -qxF -- "$entry" "$unshipped" && continue
    printf '%s\n' "$entry" >> "$unshipped"; added=$((added + 1))
  done < <(awk -F'\t' -v p="$csproj" '$1 == "RS0016" && $2 == p { print $4 }' "$work/found" | sort -u)
  while IFS= read -r entry; do
    if grep -qxF -- "$entry" "$unshipped"; then
      grep -vxF -- "$entry" "$unshipped" > "$work/kept" || true
      cat "$work/kept" > "$unshipped"
    elif grep -qxF -- "$entry" "$shipped" && ! grep -qxF -- "*REMOVED*$entry" "$unshipped"; then
      printf '*REMOVED*%s\n' "$entry" >> "$unshipped"
    fi
    removed=$((removed + 1))
  done < <(awk -F'\t' -v p="$csproj" '$1 == "RS0017" && $2 == p { print $4 }' "$work/found" | sort -u)
  # RS0036: a member declared oblivious (a ~ entry) is annotated now; the analyzer quotes the new entry. Its old one is
  # the ~ line that is the same without the annotations (! and ?); a shipped one gets *REMOVED* as any change does.
  while IFS= read -r entry; do
    key=${entry//[?!]/}
    old=$(grep -E '^~' "$unshipped" | while IFS= read -r line; do l=${line#\~}; [ "${l//[?!]/}" = "$key" ] && printf '%s\n' "$line"; done || true)
    if [ -n "$old" ] && [ "$(printf '%s\n' "$old" | wc -l)" -eq 1 ]; then
      grep -vxF -- "$old" "$unshipped" > "$work/kept" || true
      { cat "$work/kept"; printf '%s\n' "$entry"; } > "$unshipped"
    else
      old=$(grep -E '^~' "$shipped" | while IFS= read -r line; do l=${line#\~}; [ "${l//[?!]/}" = "$key" ] && printf '%s\n' "$line"; done || true)
      if [ -n "$old" ] && [ "$(printf '%s\n' "$old" | wc -l)" -eq 1 ]; then
        grep -qxF -- "*REMOVED*$old" "$unshipped" || printf '*REMOVED*%s\n' "$old" >> "$unshipped"
        grep -qxF -- "$entry" "$unshipped" || printf '%s\n' "$entry" >> "$unshipped"
      else
        echo "$csproj: RS0036 for '$entry', but no single ~ entry without annotations matches it; replace it by hand." >&2
        status=1; continue
      fi
    fi
    annotated=$((annotated + 1))
  done < <(awk -F'\t' -v p="$csproj" '$1 == "RS0036" && $2 == p { print $4 }' "$work/found" | sort -u)
  # The header first, then the entries in the order the RS0016 code fix keeps (ordinal, ignoring case).
  { printf '%s\n' "$header"; grep -vxF -- "$header" "$unshipped" | grep -v '^$' | LC_ALL=C sort -u | LC_ALL=C sort -f; } > "$work/sorted"
  cat "$work/sorted" > "$unshipped"
  echo "${dir#"$(pwd)/"}/PublicAPI.Unshipped.txt: $added added, $removed removed$([ "$annotated" -eq 0 ] || echo ", $annotated annotated")"
done < <(cut -f2 "$work/found" | sort -u)
[ -s "$work/found" ] || echo "every public member has its entry; nothing to change"
if [ -s "$work/unfixed" ]; then
  echo "The build will still fail on these, which need a change to the code (CONTRIBUTING.md, \"Public API\"). RS0026: make the" >&2
  echo "optional parameters required in one overload, or, if no call can bind to both, add a reasoned suppression to the" >&2
  echo "project's PublicApiSuppressions.cs. RS0041: the member is declared under #nullable disable; annotate it." >&2
  sort -u "$work/unfixed" | sed 's/^/  /' >&2
  status=1
fi
exit $status
