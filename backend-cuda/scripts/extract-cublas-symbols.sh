#!/usr/bin/env bash
# Writes src/main/shim/cublas12.symbols: every cuBLAS function the JCublas2 native imports, i.e. the
# undefined dynamic symbols of libJCublas2 tagged with the version `libcublas.so.12`. build-shim.sh makes
# one trampoline per line. Rerun after changing the JCuda version (the jar must be in the local Maven
# repository: `mvn -pl backend-cuda dependency:resolve`).
#
# Usage: scripts/extract-cublas-symbols.sh   (JCUDA_VERSION, M2_REPO override 12.6.0 and ~/.m2/repository)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${JCUDA_VERSION:-12.6.0}
repo=${M2_REPO:-$HOME/.m2/repository}
jar="$repo/org/jcuda/jcublas-natives/$version/jcublas-natives-$version-linux-x86_64.jar"
[[ -f "$jar" ]] || { echo "extract-cublas-symbols: $jar not found (resolve the dependency first)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -p "$jar" "lib/libJCublas2-$version-linux-x86_64.so" > "$work/libJCublas2.so"
nm -D --undefined-only "$work/libJCublas2.so" | awk '{print $2}' | sed -n 's/@libcublas\.so\.12$//p' \
    | LC_ALL=C sort -u > src/main/shim/cublas12.symbols
echo "extract-cublas-symbols: $(wc -l < src/main/shim/cublas12.symbols) symbols from $(basename "$jar")"
