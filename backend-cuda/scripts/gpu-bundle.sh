#!/usr/bin/env bash
# Builds the self-contained GPU verification bundle for a GPU machine that has no Java, no Maven and no network,
# in two folders (both ignored by git) so that each fits one device call's 64 MiB carry:
#   .gpu/       a trimmed Temurin 25 runtime (jlink, packed as .tar.xz), the project jars (cli, core, cpu,
#               opencl and cuda backends, benchmarks, with the test classes of core, opencl and cuda, cuda's
#               measuring programs among them), their dependencies (JCuda natives cut down to the three
#               libraries the backend loads) and JUnit's console launcher
#   .gpu-data/  the Fashion-MNIST files (from $FASHION_MNIST_DIR, else Debian's dataset-fashion-mnist)
# gpu-verify.sh, run on the GPU machine, uses them. See docs/gpu/README.md.
#
# Usage (from anywhere, on a machine with Maven, network and JDK 25):  backend-cuda/scripts/gpu-bundle.sh
# Environment: JDK25 (default /usr/lib/jvm/temurin-25-jdk-amd64), MVN_ARGS (e.g. -o for offline).
set -euo pipefail
cd "$(dirname "$0")/../.."

JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.14.4
DATA_DIR=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
LIMIT_BYTES=$((60 * 1024 * 1024))
B=.gpu
D=.gpu-data
mvn_q() { mvn -B -q ${MVN_ARGS:-} "$@"; }

[[ -x "$JDK25/bin/jlink" ]] || { echo "gpu-bundle: no jlink in $JDK25 (set JDK25)" >&2; exit 1; }
rm -rf "$B" "$D"
mkdir -p "$B/lib" "$B/work" "$D"

echo "gpu-bundle: building the modules (tests compiled, not run) and collecting their dependencies"
# Each in one reactor build, so the project's own jars come from this build's target folders and nothing is
# installed into ~/.m2: cli's runtime class path (the project's jars, picocli, progress bar, chart, Gson, JOCL,
# JCuda), then what the opencl and cuda tests and StepProfile (benchmarks) add: core's test jar. JUnit's own jars
# are left out (the console launcher bundles the same versions), and so are JMH and OpenBLAS, which StepProfile
# does not use, and Jazzer (9 MiB), which only core's fuzz tests use: the launcher loads only the classes of the
# packages it selects.
mvn_q package dependency:copy-dependencies -pl cli -am -DskipTests -DincludeScope=runtime \
    -DoutputDirectory="$PWD/$B/work/deps"
mvn_q package dependency:copy-dependencies -pl backend-opencl,backend-cuda,benchmarks -am -DskipTests \
    -DincludeScope=test -DoutputDirectory="$PWD/$B/work/deps" \
    -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,org.openjdk.jmh,net.sf.jopt-simple,org.apache.commons,org.bytedeco,com.code-intelligence
for m in backend-opencl backend-cuda; do
    "$JDK25/bin/jar" --create --file "$B/lib/backprop-$m-tests.jar" -C "$m/target/test-classes" .
done
find cli/target benchmarks/target -maxdepth 1 -name 'backprop-*.jar' ! -name '*-sources.jar' -exec cp {} "$B/lib/" \;
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
# jdk.zipfs: JUnit scans jars on the class path through the zip file system. java.desktop: the training chart.
# jdk.security.auth: NativeLoader's user id (natives are loaded only from a directory of this user).
modules=$(echo "${modules:+$modules,}java.base,java.desktop,java.logging,java.management,java.xml,jdk.security.auth,jdk.unsupported,jdk.zipfs,jdk.incubator.vector" \
    | tr ',' '\n' | sort -u | paste -sd, -)
"$JDK25/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-0 \
    --output "$B/jre" 2>&1 | grep -v "Using incubator modules" || true
tar -C "$B" -cJf "$B/jre.tar.xz" jre
rm -rf "$B/jre" "$B/work"

echo "gpu-bundle: Fashion-MNIST from $DATA_DIR"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [[ -f "$DATA_DIR/$f.gz" ]] || { echo "gpu-bundle: $DATA_DIR/$f.gz is missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
    cp "$DATA_DIR/$f.gz" "$D/"
done

{
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) from commit $(git rev-parse --short HEAD)$(git diff --quiet -- . ':!docs' || echo ' (with uncommitted changes)')"
    echo "runtime: $("$JDK25/bin/java" -version 2>&1 | sed -n 2p); modules: $modules"
    (cd "$B" && sha256sum jre.tar.xz lib/*.jar)
} > "$B/VERSIONS.txt"
(cd "$D" && sha256sum ./*.gz) > "$D/SHA256SUMS"

for dir in "$B" "$D"; do
    size=$(du -sb "$dir" | cut -f1)
    echo "gpu-bundle: $dir is $((size / 1024 / 1024)) MiB ($(find "$dir" -type f | wc -l) files)"
    (( size <= LIMIT_BYTES )) || { echo "gpu-bundle: $dir is over the $((LIMIT_BYTES / 1024 / 1024)) MiB budget" >&2; exit 1; }
done
