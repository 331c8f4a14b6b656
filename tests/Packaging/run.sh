#!/usr/bin/env bash
# The package as a user gets it: packs src/Backprop into a temporary folder feed (tests/Packaging/feed), checks the
# package's contents, then restores, builds and runs XorConsumer, which references Backprop by id and version from
# that feed (NuGet.config) with a private packages folder, so no earlier package of the same version is reused.
# Needs only the .NET SDK and the normal NuGet source. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
feed="$here/feed"
work="$(mktemp -d)"
cleanup() { rm -rf "$work" "$feed"; }
trap cleanup EXIT

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
start=$SECONDS

version="$(dotnet msbuild "$root/src/Backprop/Backprop.csproj" -getProperty:Version)"
echo "packaging: packing Backprop $version into $feed"
rm -rf "$feed"
dotnet pack "$root/src/Backprop/Backprop.csproj" -c Release -o "$feed" -warnaserror --nologo -v quiet

nupkg="$feed/Backprop.$version.nupkg"
snupkg="$feed/Backprop.$version.snupkg"
for file in "$nupkg" "$snupkg"; do
  [[ -f "$file" ]] || { echo "packaging: FAILED: $file was not created" >&2; exit 1; }
done
# A zip's central directory holds its entry names uncompressed.
for entry in Backprop.nuspec README.md lib/net10.0/Backprop.dll lib/net10.0/Backprop.xml; do
  LC_ALL=C grep -a -F -q "$entry" "$nupkg" || { echo "packaging: FAILED: $nupkg lacks $entry" >&2; exit 1; }
done
LC_ALL=C grep -a -F -q "lib/net10.0/Backprop.pdb" "$snupkg" || { echo "packaging: FAILED: $snupkg lacks the pdb" >&2; exit 1; }

# The data-parallel package: its own id, its docs as README, and the core pinned to exactly this version (it uses the
# core's internal step hook). The nuspec is stored compressed, so it is read with unzip when that is installed.
echo "packaging: packing Backprop.Distributed $version into $feed"
dotnet pack "$root/src/Backprop.Distributed/Backprop.Distributed.csproj" -c Release -o "$feed" -warnaserror --nologo -v quiet
distributed="$feed/Backprop.Distributed.$version.nupkg"
[[ -f "$distributed" ]] || { echo "packaging: FAILED: $distributed was not created" >&2; exit 1; }
for entry in Backprop.Distributed.nuspec README.md lib/net10.0/Backprop.Distributed.dll lib/net10.0/Backprop.Distributed.xml; do
  LC_ALL=C grep -a -F -q "$entry" "$distributed" || { echo "packaging: FAILED: $distributed lacks $entry" >&2; exit 1; }
done
if command -v unzip >/dev/null 2>&1; then
  unzip -p "$distributed" Backprop.Distributed.nuspec | grep -F -q "<dependency id=\"Backprop\" version=\"[$version]\"" \
    || { echo "packaging: FAILED: Backprop.Distributed does not depend on exactly Backprop [$version]" >&2; exit 1; }
fi

echo "packaging: building XorConsumer against the package"
export NUGET_PACKAGES="$work/packages"
dotnet build "$here/XorConsumer/XorConsumer.csproj" -c Release -p:BackpropVersion="$version" --nologo -v quiet
[[ -d "$NUGET_PACKAGES/backprop/$version" ]] || { echo "packaging: FAILED: Backprop $version was not restored from the feed" >&2; exit 1; }

output="$(dotnet run --project "$here/XorConsumer/XorConsumer.csproj" -c Release --no-build -p:BackpropVersion="$version")"
echo "$output"
last="$(tail -n 1 <<<"$output")"
if [[ "$last" != "XOR OK: 0 1 1 0" ]]; then
  echo "packaging: FAILED: expected 'XOR OK: 0 1 1 0' as the consumer's last line, got '$last'" >&2
  exit 1
fi
echo "packaging: OK (Backprop $version, $((SECONDS - start)) s)"
