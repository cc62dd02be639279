// Runs every kernel of src/main/cuda on the CPU (through cuda_emu.h) and compares it with a float64
// reference written from the Backend Javadoc, with the contract's tolerances. Launch shapes are the ones the
// Java code launches with: each case asks for them on standard output ("SHAPE <op> <sizes>") and reads the
// answer of KernelEmulationTest (which calls CudaLaunch.Shape and CudaReductions) on standard input. Sizes
// cover the awkward paths: more elements than the grid (grid-stride loops), sizes that are not multiples of a
// block or tile, empty rows, NaN, ties, -0, in-place outputs, multi-pass reductions. A few cases add a grid
// smaller than the rows, which the Java code only launches past 65535 rows, to run the kernels' row loops.
// Prints one line per case (PASS/FAIL); the exit status is the number of failures.
#include "elementwise.cu"
#include "fused.cu"
#include "images.cu"
#include "normalization.cu"
#include "reductions.cu"
#include "softmax.cu"
#include "transpose.cu"
#include "updates.cu"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>

static int failures = 0;

static bool same_special(double e, double a) {
    if (std::isnan(e)) return std::isnan(a);
    if (std::isinf(e)) return a == e;
    return false;
}

// |a - e| <= rel·|e| + abs_tol, NaN needs NaN, an infinity the same infinity.
static void check(const std::string& name, const std::vector<double>& expected, const std::vector<double>& actual,
                  double rel, double abs_tol) {
    int bad = 0, first = -1;
    for (size_t i = 0; i < expected.size(); i++) {
        double e = expected[i], a = actual[i];
        bool ok = (std::isnan(e) || std::isinf(e)) ? same_special(e, a) : std::fabs(a - e) <= rel * std::fabs(e) + abs_tol;
        if (!ok) {
            if (first < 0) first = (int) i;
            bad++;
        }
    }
    if (expected.size() != actual.size()) {
        std::printf("FAIL %s: %zu results, expected %zu\n", name.c_str(), actual.size(), expected.size());
        failures++;
    } else if (bad) {
        std::printf("FAIL %s: %d of %zu wrong, first [%d] got %.9g expected %.9g\n", name.c_str(), bad,
                    expected.size(), first, actual[first], expected[first]);
        failures++;
    } else {
        std::printf("PASS %s\n", name.c_str());
    }
}

template <typename T> static std::vector<double> to_double(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}

template <typename T> static double rel_tol() { return sizeof(T) == 4 ? 1e-5 : 1e-11; }

static double rms(const std::vector<double>& v) {
    double s = 0;
    int n = 0;
    for (double x : v) if (std::isfinite(x)) { s += x * x; n++; }
    return n ? std::sqrt(s / n) : 0;
}

template <typename T> static std::vector<T> uniform(unsigned seed, size_t n, double lo, double hi) {
    std::mt19937_64 r(seed);
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<T> v(n);
    for (auto& x : v) x = (T) d(r);
    return v;
}

// One launch: grid and block.
struct emu_shape {
    emu_dim3 grid, block;
};

// The Java code's plan for one op: values it derives from the sizes (partial counts, rows per chunk), then the
// shape of each launch, in order. A reference query ("philox") has values and no launch.
struct emu_plan {
    std::vector<long long> values;
    std::vector<emu_shape> launches;
};

// Asks KernelEmulationTest for the plan of `query`; the answer line is "<#values> values... <#launches>
// (gx gy bx by)...". Without an answer (the program run on its own) the run stops: no case may fall back to
// shapes of its own.
static emu_plan java_plan(const std::string& query) {
    std::printf("SHAPE %s\n", query.c_str());
    std::fflush(stdout);
    emu_plan plan;
    long long nv = -1, nl = -1;
    if (std::scanf("%lld", &nv) != 1 || nv < 0) {
        std::printf("FAIL no launch shapes for '%s' on standard input (run through KernelEmulationTest)\n",
                    query.c_str());
        std::exit(100);
    }
    plan.values.resize((size_t) nv);
    for (auto& v : plan.values) if (std::scanf("%lld", &v) != 1) std::exit(101);
    if (std::scanf("%lld", &nl) != 1 || nl < 0) std::exit(102);
    plan.launches.resize((size_t) nl);
    for (auto& l : plan.launches) {
        if (std::scanf("%u %u %u %u", &l.grid.x, &l.grid.y, &l.block.x, &l.block.y) != 4) std::exit(103);
    }
    return plan;
}

// The single launch of a one-launch op.
static emu_shape java_shape(const std::string& query) {
    emu_plan plan = java_plan(query);
    if (plan.launches.size() != 1) {
        std::printf("FAIL '%s' has %zu launches, expected one\n", query.c_str(), plan.launches.size());
        std::exit(104);
    }
    return plan.launches[0];
}

// CudaLaunch.Shape.elementwise / perRow / transpose for these sizes.
static emu_shape elementwise_shape(long long n) { return java_shape("elementwise " + std::to_string(n)); }
static emu_shape rows_shape(long long rows) { return java_shape("rows " + std::to_string(rows)); }
static emu_shape transpose_shape(int rows, int cols) {
    return java_shape("transpose " + std::to_string(rows) + " " + std::to_string(cols));
}

template <typename Kernel, typename... Args> static void launch(Kernel kernel, emu_shape s, Args... args) {
    emu_launch(kernel, s.grid, s.block, args...);
}

// A grid of `blocks` blocks shaped as `s`'s: fewer blocks than rows, so the row loop runs (as past 65535 rows).
static emu_shape with_grid(emu_shape s, unsigned blocks) {
    s.grid = emu_dim3{blocks, 1, 1};
    return s;
}

#include "kernel_test_cases.inc"
#include "kernel_test_images.inc"
#include "kernel_test_normalization.inc"
#include "kernel_test_fused.inc"

int main() {
    run_elementwise_cases();
    run_reduce_cases();
    run_softmax_cases();
    run_optim_cases();
    run_image_cases();
    run_normalization_cases();
    run_fused_cases();
    std::printf("%d failure(s)\n", failures);
    return failures;
}
