package dev.backprop.benchmarks;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The run settings every JMH benchmark here extends, so their scores compare: throughput in calls per second, one
 * fork that can load the Vector API and native libraries (the cpu backend's kernels, OpenCL, CUDA), 3 warm-up and
 * 5 measured iterations of 2 s. JMH reads these annotations from the superclass; a subclass annotation overrides
 * one, as does a command-line option ({@code -f}, {@code -wi}, {@code -i}, ...). {@link BenchMain}, the jar's entry
 * point, passes its own fuller fork arguments, which replace these; they serve runs that start JMH another way.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public abstract class JmhSettings {
}
