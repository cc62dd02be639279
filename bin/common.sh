# Shared set-up for bin/backprop, bin/test and .ci/run (sourced, not run): finds or installs a JDK 17+,
# Maven and the Debian packages a command needs. Installs only what is missing, and only as root;
# otherwise it says what to install and goes on.

BP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# What running Backprop needs: PoCL so the opencl backend has a device, the Fashion-MNIST files for train.
BP_RUNTIME_PACKAGES=(pocl-opencl-icd ocl-icd-libopencl1 dataset-fashion-mnist)
# What the tests need besides a JDK and Maven (clinfo only to show the OpenCL platforms in logs). g++ and binutils
# build and inspect the CPU emulation of the CUDA kernels and the cuBLAS shim (backend-cuda's tests without a GPU).
BP_TEST_PACKAGES=(pocl-opencl-icd ocl-icd-libopencl1 clinfo dataset-fashion-mnist g++ binutils)

bp_say() { echo "$(basename "$0"): $*" >&2; }

# True when a Debian package is installed and configured (an "unpacked" one does not count: its
# libraries may not be registered yet).
bp_pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

BP_APT_UPDATED=0
# Installs the given Debian packages that are missing (as root), or tells how to.
bp_ensure_packages() {
    command -v dpkg-query >/dev/null 2>&1 || { bp_say "not a Debian system: make sure these are installed: $*"; return 0; }
    local missing=() p
    for p in "$@"; do bp_pkg_installed "$p" || missing+=("$p"); done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ "$(id -u)" -ne 0 ]]; then
        bp_say "missing packages: ${missing[*]} (as root: apt-get install -y ${missing[*]}); going on without them"
        return 0
    fi
    bp_say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if [[ $BP_APT_UPDATED -eq 0 ]]; then
        apt-get update -q >&2
        BP_APT_UPDATED=1
    fi
    apt-get install -y -q "${missing[@]}" >&2
}

# The major version of a java executable (8 for "1.8.0_x", 17 for "17.0.15").
bp_java_major() {
    local v
    v="$("$1" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)"
    v="${v#1.}"
    echo "${v%%[.+-]*}"
}

# Sets BP_JAVA to a java 17+: $JAVA_HOME's, else the one on PATH, else installs OpenJDK 17 (as root).
bp_find_java() {
    local candidate=""
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        candidate="$JAVA_HOME/bin/java"
    elif command -v java >/dev/null 2>&1; then
        candidate="$(command -v java)"
    elif [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        bp_ensure_packages openjdk-17-jdk-headless
        candidate="$(command -v java)"
    fi
    if [[ -z "$candidate" ]]; then
        bp_say "no java found: install a JDK 17 or newer (Debian: apt-get install -y openjdk-17-jdk-headless) or set JAVA_HOME"
        exit 1
    fi
    local major
    major="$(bp_java_major "$candidate")"
    if [[ -z "$major" || "$major" -lt 17 ]]; then
        bp_say "$candidate is Java ${major:-?}; Backprop needs 17 or newer (set JAVA_HOME)"
        exit 1
    fi
    BP_JAVA="$candidate"
    BP_JAVA_MAJOR="$major"
    bp_preload_jsig "$candidate"
}

# PoCL installs LLVM's crash handlers over the JVM's SIGSEGV handler (with SA_RESETHAND), and a JVM that meets two
# safepoint polls at once then dies (exit 139). The JDK's libjsig keeps the JVM's handler and chains the library's;
# exported, so every JVM these scripts start (Maven's test forks, JMH forks, child JVMs) gets it.
bp_preload_jsig() {
    local jsig entry kept=""
    jsig="$(dirname "$(dirname "$(readlink -f "$1")")")/lib/libjsig.so"
    [[ -f "$jsig" ]] || return 0
    # Another JDK's libjsig (a script switching JDKs) must not stay in front of this one.
    local preload="${LD_PRELOAD:-}"
    for entry in ${preload//:/ }; do
        [[ "$entry" == */libjsig.so ]] || kept="${kept:+$kept:}$entry"
    done
    export LD_PRELOAD="$jsig${kept:+:$kept}"
}

# Makes sure mvn is on PATH (installs Debian's maven as root).
bp_ensure_maven() {
    command -v mvn >/dev/null 2>&1 && return 0
    if [[ "$(id -u)" -eq 0 ]]; then
        bp_ensure_packages maven
    fi
    command -v mvn >/dev/null 2>&1 || { bp_say "Maven (mvn) not found: apt-get install -y maven"; exit 1; }
}

# True when jar $1 is missing or older than a source or pom of modules $2...
bp_jar_stale() {
    local jar="$1" dirs=() m newer
    shift
    [[ -f "$jar" ]] || return 0
    for m in "$@"; do [[ -d "$BP_ROOT/$m" ]] && dirs+=("$BP_ROOT/$m"); done
    newer="$(find "$BP_ROOT/pom.xml" "${dirs[@]}" -name target -prune -o \
        \( -path '*/src/main/*' -o -name pom.xml \) -type f -newer "$jar" -print -quit 2>/dev/null || true)"
    [[ -n "$newer" ]]
}

# Builds module $2's jar $1 (and the modules it needs) with Maven when it is stale; modules $3... are the
# ones whose sources it contains. Concurrent launches wait for each other instead of building into the
# same target folders.
bp_build_if_stale() {
    local jar="$1" module="$2"
    shift 2
    if [[ -f "$jar" && -n "${BACKPROP_NO_BUILD:-}" ]]; then return 0; fi  # use the jar as it is
    bp_jar_stale "$jar" "$@" || return 0
    bp_ensure_maven
    mkdir -p "$BP_ROOT/$module/target"
    exec 9>"$BP_ROOT/$module/target/.build.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    if bp_jar_stale "$jar" "$@"; then
        bp_say "building ${jar#"$BP_ROOT"/} (mvn -B -q -DskipTests package -pl $module -am)"
        # .mvn/jvm.config stops the bare ANSI resets Maven 3.8 writes even in batch mode.
        (cd "$BP_ROOT" && JAVA_HOME="$(bp_java_home)" mvn -B -q -DskipTests package -pl "$module" -am >&2)
    fi
    exec 9>&-
}

# The JDK folder of $BP_JAVA (what Maven should build with).
bp_java_home() {
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        echo "$JAVA_HOME"
    else
        dirname "$(dirname "$(readlink -f "$BP_JAVA")")"
    fi
}

# Sets BP_SPARK_CP to the class path of Spark's jars (spark-core_2.13 and its dependencies, in the local Maven
# repository) for `backprop train --spark`: backprop.jar leaves Spark out. Maven resolves it from
# cli/spark-runtime/pom.xml (downloading about 220 MB the first time); the answer is kept in
# cli/target/spark-classpath.txt until a pom changes or a listed jar disappears.
bp_spark_classpath() {
    local cache="$BP_ROOT/cli/target/spark-classpath.txt"
    if bp_spark_classpath_stale "$cache"; then
        bp_ensure_maven
        mkdir -p "$BP_ROOT/cli/target"
        exec 8>"$BP_ROOT/cli/target/.spark-classpath.lock"
        if command -v flock >/dev/null 2>&1; then flock 8; fi
        if bp_spark_classpath_stale "$cache"; then
            bp_say "resolving Spark's jars (mvn -B -q -f cli/spark-runtime/pom.xml dependency:build-classpath)"
            if ! (cd "$BP_ROOT" && JAVA_HOME="$(bp_java_home)" mvn -B -q -f cli/spark-runtime/pom.xml \
                    dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile="$cache.tmp" 2>&1 \
                    | sed 's/\x1b\[0m//g' >&2); then
                bp_say "Maven could not resolve Spark's jars (see above); train --spark needs them"
                exit 1
            fi
            mv "$cache.tmp" "$cache"
        fi
        exec 8>&-
    fi
    BP_SPARK_CP="$(<"$cache")"
}

# True when the cached Spark class path $1 is missing, older than a pom that decides it, or names a jar that
# is gone (a cleaned Maven repository).
bp_spark_classpath_stale() {
    local cache="$1" jars=() j
    [[ -s "$cache" ]] || return 0
    [[ -z "$(find "$BP_ROOT/pom.xml" "$BP_ROOT/spark/pom.xml" "$BP_ROOT/cli/spark-runtime/pom.xml" \
        -newer "$cache" -print -quit 2>/dev/null)" ]] || return 0
    IFS=: read -r -a jars < "$cache"
    for j in "${jars[@]}"; do [[ -f "$j" ]] || return 0; done
    return 1
}

# True when the command line (after the JVM options) is `train ... --spark MASTER ...`: the same rule as
# dev.backprop.cli.SparkTraining.requested.
bp_wants_spark() {
    [[ "${1:-}" == train ]] || return 1
    local a
    for a in "$@"; do [[ "$a" == --spark || "$a" == --spark=* ]] && return 0; done
    return 1
}
