// Runs every kernel of src/main/cuda on the CPU (through cuda_emu.h) and compares it with a float64
// reference written from the Backend Javadoc, with the contract's tolerances. Launch shapes are chosen to
// cover the awkward paths: grids smaller than the data (grid-stride loops), sizes that are not multiples of
// a block or tile, empty rows, NaN, ties, -0, in-place outputs, multi-pass reductions.
// Prints one line per case (PASS/FAIL); the exit status is the number of failures. Built and run by
// KernelEmulationTest.
#include "elementwise.cu"
#include "reductions.cu"
#include "softmax.cu"
#include "transpose.cu"
#include "updates.cu"

#include <climits>
#include <cstdio>
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

static const emu_dim3 B256{256, 1, 1};  // what CudaLaunch uses
static const emu_dim3 B64{64, 1, 1};    // for barrier-free kernels: fewer host threads, more grid-stride turns
static const emu_dim3 G2{2, 1, 1};

#include "kernel_test_cases.inc"

int main() {
    run_elementwise_cases();
    run_reduce_cases();
    run_softmax_cases();
    run_optim_cases();
    std::printf("%d failure(s)\n", failures);
    return failures;
}
