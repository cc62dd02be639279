package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.util.Locale;

/**
 * A quick GEMM throughput harness (not a unit test; the JMH suites live in the benchmarks module). Prints
 * GFLOP/s, the best and the median of several timed runs after warm-up, for square sizes and the MLP's shapes.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp backend-cpu/target/classes:backend-cpu/target/test-classes:core/target/classes \
 *      dev.backprop.cpu.CpuGemmBench [threads=1,2] [vector=true] [sizes=512,1024,2048] [mlp=true] \
 *      [blocking=gemm.mc:144,gemm.kc:256] [dtype=FLOAT64]
 * </pre>
 */
public final class CpuGemmBench {
    private CpuGemmBench() {
    }

    public static void main(String[] args) {
        String threadList = "1,2", sizes = "512,1024,2048";
        boolean vector = true, mlp = true;
        DType dtype = DType.FLOAT32;
        String extra = "";
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "threads" -> threadList = kv[1];
                case "sizes" -> sizes = kv[1];
                case "vector" -> vector = Boolean.parseBoolean(kv[1]);
                case "mlp" -> mlp = Boolean.parseBoolean(kv[1]);
                case "blocking" -> extra = kv[1];
                case "dtype" -> dtype = DType.valueOf(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        for (String t : threadList.split(",")) {
            java.util.Map<String, String> opts = new java.util.HashMap<>();
            opts.put("vector", Boolean.toString(vector));
            opts.put("threads", t);
            String[] kv = extra.isEmpty() ? new String[0] : extra.split("[,:]");
            for (int i = 0; i + 1 < kv.length; i += 2) {
                opts.put(kv[i], kv[i + 1]);
            }
            try (CpuBackend b = new CpuBackend(dev.backprop.backend.BackendOptions.of(opts))) {
                System.out.println("# " + b + " " + b.capabilities().details().get("gemm"));
                for (String s : sizes.split(",")) {
                    int n = Integer.parseInt(s);
                    run(b, dtype, "square " + n, false, false, n, n, n);
                }
                if (mlp) {
                    run(b, dtype, "mlp fwd 128x784 * 784x256", false, false, 128, 256, 784);
                    run(b, dtype, "mlp dW  (128x784)^T * 128x256", true, false, 784, 256, 128);
                    run(b, dtype, "mlp dX  128x256 * (784x256)^T", false, true, 128, 784, 256);
                    run(b, dtype, "mlp fwd2 128x256 * 256x128", false, false, 128, 128, 256);
                }
            }
        }
    }

    private static void run(CpuBackend b, DType dt, String what, boolean ta, boolean tb, int m, int n, int k) {
        Buffer a = b.allocate(dt, (long) m * k), bb = b.allocate(dt, (long) k * n);
        Buffer c = b.allocate(dt, (long) m * n);
        b.fill(a, 0, a.size(), 0.5);
        b.fill(bb, 0, bb.size(), 0.25);
        double flops = 2.0 * m * n * k;
        int reps = (int) Math.max(5, Math.min(200, 2e10 / flops));
        for (int i = 0; i < reps; i++) {
            b.gemm(ta, tb, m, n, k, 1, a, 0, ta ? m : k, bb, 0, tb ? k : n, 0, c, 0, n, 1, 0, 0, 0);
        }
        int rounds = 7;
        double[] g = new double[rounds], cpu = new double[rounds];
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime(), c0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < reps; i++) {
                b.gemm(ta, tb, m, n, k, 1, a, 0, ta ? m : k, bb, 0, tb ? k : n, 0, c, 0, n, 1, 0, 0, 0);
            }
            g[r] = flops * reps / (System.nanoTime() - t0);
            cpu[r] = flops * reps / (mx.getCurrentThreadCpuTime() - c0);
        }
        java.util.Arrays.sort(g);
        java.util.Arrays.sort(cpu);
        // The second figure divides by the calling thread's CPU time: on a shared, oversubscribed machine it shows
        // what the kernel does while it actually runs (meaningful for threads=1 only).
        System.out.println(String.format(Locale.ROOT, "%-32s best %7.1f  median %7.1f GFLOP/s  (per caller CPU "
                + "second: median %7.1f)", what, g[rounds - 1], g[rounds / 2], cpu[rounds / 2]));
        b.release(a);
        b.release(bb);
        b.release(c);
    }
}
