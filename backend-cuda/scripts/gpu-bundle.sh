#!/usr/bin/env bash
# Builds the self-contained GPU verification bundle in .gpu/ (ignored by git) for a GPU machine that has no
# Java, no Maven and no network: a trimmed Temurin 25 runtime (jlink, packed as .tar.xz), the project jars
# with their test classes, the dependencies (JCuda natives cut down to the three libraries the backend
# loads) and JUnit's console launcher. gpu-verify.sh, run on the GPU machine, uses it. See docs/gpu/README.md.
#
# Usage (from anywhere, on a machine with Maven, network and JDK 25):  backend-cuda/scripts/gpu-bundle.sh
# Environment: JDK25 (default /usr/lib/jvm/temurin-25-jdk-amd64), MVN_ARGS (e.g. -o for offline).
set -euo pipefail
cd "$(dirname "$0")/../.."

JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.14.4
LIMIT_BYTES=$((60 * 1024 * 1024))
B=.gpu
mvn_q() { mvn -B -q ${MVN_ARGS:-} "$@"; }

[[ -x "$JDK25/bin/jlink" ]] || { echo "gpu-bundle: no jlink in $JDK25 (set JDK25)" >&2; exit 1; }
rm -rf "$B/lib" "$B/jre" "$B/jre.tar.xz" "$B/work"
mkdir -p "$B/lib" "$B/work"

echo "gpu-bundle: building core and backend-cuda (tests compiled, not run)"
mvn_q install -pl core -DskipTests
mvn_q package -pl backend-cuda -DskipTests
find backend-cuda/target -maxdepth 1 -name 'backprop-backend-cuda-*.jar' ! -name '*-tests.jar' \
    ! -name '*-sources.jar' -exec cp {} "$B/lib/" \;
"$JDK25/bin/jar" --create --file "$B/lib/backprop-backend-cuda-tests.jar" -C backend-cuda/target/test-classes .

echo "gpu-bundle: dependencies and $JUNIT_CONSOLE"
# JUnit's own jars are left out: the console launcher bundles the same versions.
mvn_q dependency:copy-dependencies -pl backend-cuda -DincludeScope=test -DoutputDirectory="$PWD/$B/work/deps" \
    -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian
mvn_q dependency:copy -Dartifact="$JUNIT_CONSOLE" -DoutputDirectory="$PWD/$B/lib"

# The natives jars carry every JCuda library (the PTX compiler alone is 24 MB); keep what the backend loads.
for jar in "$B"/work/deps/*.jar; do
    name=$(basename "$jar")
    case "$name" in
        jcuda-natives-*) keep='libJCudaDriver-|libJCudaRuntime-' ;;
        jcublas-natives-*) keep='libJCublas2-' ;;
        *) cp "$jar" "$B/lib/"; continue ;;
    esac
    dir="$B/work/x-$name"
    mkdir -p "$dir"
    (cd "$dir" && "$JDK25/bin/jar" --extract --file "$OLDPWD/$jar")
    find "$dir/lib" -type f | grep -Ev "$keep" | xargs -r rm -f
    "$JDK25/bin/jar" --create --file "$B/lib/$name" -C "$dir" .
done

echo "gpu-bundle: jlink"
modules=$("$JDK25/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 25 \
    --class-path "$B/lib/*" "$B"/lib/backprop-*.jar 2>/dev/null || true)
# jdk.zipfs: JUnit scans jars on the class path through the zip file system.
modules=$(echo "${modules:+$modules,}java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.zipfs,jdk.incubator.vector" \
    | tr ',' '\n' | sort -u | paste -sd, -)
"$JDK25/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-0 \
    --output "$B/jre" 2>&1 | grep -v "Using incubator modules" || true
tar -C "$B" -cJf "$B/jre.tar.xz" jre
rm -rf "$B/jre" "$B/work"

{
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) from commit $(git rev-parse --short HEAD)$(git diff --quiet -- core backend-cuda || echo ' (with uncommitted changes)')"
    echo "runtime: $("$JDK25/bin/java" -version 2>&1 | sed -n 2p); modules: $modules"
    (cd "$B" && sha256sum jre.tar.xz lib/*.jar)
} > "$B/VERSIONS.txt"

size=$(du -sb "$B" | cut -f1)
echo "gpu-bundle: $B is $((size / 1024 / 1024)) MiB ($(ls "$B/lib" | wc -l) jars)"
(( size <= LIMIT_BYTES )) || { echo "gpu-bundle: over the $((LIMIT_BYTES / 1024 / 1024)) MiB budget" >&2; exit 1; }
