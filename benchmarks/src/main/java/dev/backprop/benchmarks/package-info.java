/**
 * Measuring programs. JMH benchmarks, one class per op family ({@link dev.backprop.benchmarks.GemmBenchmark},
 * {@link dev.backprop.benchmarks.UnaryBenchmark}, {@link dev.backprop.benchmarks.ReductionBenchmark}), sizes as
 * {@code @Param}, every available backend as a parameter value, and OpenBLAS (through JavaCPP) measured as the
 * {@code openblas} value of the GEMM benchmark in the same run; {@link dev.backprop.benchmarks.BenchMain} is the
 * jar's entry point and {@code benchmarks/run.sh} runs the short profile and prints the ratio tables.
 * {@link dev.backprop.benchmarks.Interleaved} is the one A/B harness (targets in alternating windows of one JVM),
 * which {@link dev.backprop.benchmarks.GemmPairs} runs on GEMMs; {@link dev.backprop.benchmarks.StepProfile}
 * shows where a training step's time goes on a backend.
 */
package dev.backprop.benchmarks;
