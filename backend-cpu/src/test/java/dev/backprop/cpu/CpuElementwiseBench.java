package dev.backprop.cpu;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * A quick elementwise throughput harness (not a unit test): relu, sigmoid, exp, tanh out of place and a sum over
 * 16M floats, in GB/s of input plus output, median of several runs, and per second of the calling thread's CPU
 * time (meaningful for threads=1 on a shared machine).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... dev.backprop.cpu.CpuElementwiseBench [threads] [vector]
 * </pre>
 */
public final class CpuElementwiseBench {
    private CpuElementwiseBench() {
    }

    public static void main(String[] args) {
        String threads = args.length > 0 ? args[0] : "1";
        String vector = args.length > 1 ? args[1] : "true";
        int n = 16 << 20;
        try (CpuBackend b = new CpuBackend(BackendOptions.of(Map.of("threads", threads, "vector", vector)))) {
            System.out.println("# " + b);
            Buffer x = b.allocate(DType.FLOAT32, n), y = b.allocate(DType.FLOAT32, n), s = b.allocate(DType.FLOAT32, 1);
            float[] init = new float[n];
            for (int i = 0; i < n; i++) {
                init[i] = (i % 2001 - 1000) / 250f;
            }
            b.upload(init, 0, x, 0, n);
            for (UnaryOp op : new UnaryOp[] {UnaryOp.RELU, UnaryOp.SIGMOID, UnaryOp.EXP, UnaryOp.TANH}) {
                time(op.toString(), 8.0 * n, () -> b.unary(op, 0, 0, x, 0, y, 0, n));
            }
            time("sum", 4.0 * n, () -> b.reduce(ReduceOp.SUM, ReduceAxis.ALL, 1, n, x, 0, s, 0));
        }
    }

    private static void time(String what, double bytes, Runnable r) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 5; i++) {
            r.run();
        }
        int rounds = 9;
        double[] wall = new double[rounds], cpu = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime(), c0 = mx.getCurrentThreadCpuTime();
            r.run();
            wall[i] = bytes / (System.nanoTime() - t0);
            cpu[i] = bytes / (mx.getCurrentThreadCpuTime() - c0);
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        System.out.println(String.format(Locale.ROOT, "%-8s median %6.1f GB/s (best %6.1f; per caller CPU second %6.1f)",
                what, wall[rounds / 2], wall[rounds - 1], cpu[rounds / 2]));
    }
}
