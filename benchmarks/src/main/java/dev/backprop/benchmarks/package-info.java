/**
 * JMH benchmarks: one class per op family ({@link dev.backprop.benchmarks.GemmBenchmark},
 * {@link dev.backprop.benchmarks.UnaryBenchmark}, {@link dev.backprop.benchmarks.ReductionBenchmark}), sizes as
 * {@code @Param}, every available backend as a parameter value, and OpenBLAS (through JavaCPP) measured as the
 * {@code openblas} value of the GEMM benchmark in the same run. {@link dev.backprop.benchmarks.BenchMain} is the
 * jar's entry point; {@code benchmarks/run.sh} runs the short profile and prints the ratio tables.
 */
package dev.backprop.benchmarks;
