package dev.backprop.cpu;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An A/B harness for GEMM settings (not a unit test): several cpu backends, one per configuration, measured in
 * interleaved 0.25 s windows inside one JVM, so slow drifts of a shared machine (the build machines' 2 vCPUs
 * vary by up to 2x from one second to the next) hit every configuration alike. Prints, per shape and
 * configuration, the median and best GFLOP/s and the median ratio to the first configuration with its
 * interquartile range, from pairs of windows measured back to back.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp backend-cpu/target/classes:backend-cpu/target/test-classes:core/target/classes \
 *      dev.backprop.cpu.CpuGemmAbBench THREADS SECONDS SHAPES [CONFIG ...]
 *   SHAPES: comma-separated, each N (square) or MxKxN[:TN] (op(A) is m×k, op(B) k×n; T = transposed)
 *   CONFIG: backend options "key=value;key=value" (e.g. "gemm.kc=384;gemm.mc=96"), or "-" for the defaults
 * e.g. CpuGemmAbBench 1 12 1024,128x784x256 - "gemm.kc=384"
 * </pre>
 * Add {@code ALL=1} to the environment to print every window's figure too.
 */
public final class CpuGemmAbBench {
    private static final long WINDOW_NANOS = 250_000_000L;

    private CpuGemmAbBench() {
    }

    /** Runs the comparison described in the class comment. */
    public static void main(String[] args) {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: CpuGemmAbBench THREADS SECONDS SHAPES [CONFIG ...]");
        }
        double seconds = Double.parseDouble(args[1]);
        String[] configs = args.length > 3 ? Arrays.copyOfRange(args, 3, args.length) : new String[] {"-"};
        CpuBackend[] backends = new CpuBackend[configs.length];
        try {
            for (int i = 0; i < configs.length; i++) {
                backends[i] = new CpuBackend(BackendOptions.of(options(args[0], configs[i])));
            }
            for (String shape : args[2].split(",")) {
                compare(backends, configs, args[0], shape, seconds);
            }
        } finally {
            for (CpuBackend b : backends) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    private static Map<String, String> options(String threads, String config) {
        Map<String, String> opts = new HashMap<>();
        opts.put("threads", threads);
        if (!config.equals("-")) {
            for (String kv : config.split(";")) {
                String[] p = kv.split("=", 2);
                if (p.length != 2) {
                    throw new IllegalArgumentException("config entry '" + kv + "' is not key=value");
                }
                opts.put(p[0], p[1]);
            }
        }
        return opts;
    }

    /** One product's dimensions and transposes, parsed from {@code N} or {@code MxKxN[:TN]}. */
    private record Shape(String name, boolean ta, boolean tb, int m, int k, int n) {
        static Shape parse(String s) {
            String dims = s;
            boolean ta = false, tb = false;
            int colon = s.indexOf(':');
            if (colon >= 0) {
                ta = s.charAt(colon + 1) == 'T';
                tb = s.charAt(colon + 2) == 'T';
                dims = s.substring(0, colon);
            }
            if (!dims.contains("x")) {
                int n = Integer.parseInt(dims);
                return new Shape(s, ta, tb, n, n, n);
            }
            String[] d = dims.split("x");
            return new Shape(s, ta, tb, Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]));
        }
    }

    private static void compare(CpuBackend[] bs, String[] configs, String threads, String shapeText, double seconds) {
        Shape s = Shape.parse(shapeText);
        int nc = bs.length;
        Buffer[][] x = new Buffer[nc][];
        for (int i = 0; i < nc; i++) {
            x[i] = new Buffer[] {bs[i].allocate(DType.FLOAT32, (long) s.m() * s.k()),
                bs[i].allocate(DType.FLOAT32, (long) s.k() * s.n()), bs[i].allocate(DType.FLOAT32, (long) s.m() * s.n())};
            bs[i].fill(x[i][0], 0, x[i][0].size(), 0.5);
            bs[i].fill(x[i][1], 0, x[i][1].size(), 0.25);
            window(bs[i], x[i], s, 4 * WINDOW_NANOS); // warm-up
        }
        int rounds = (int) Math.max(3, seconds / 0.25 / nc);
        double[][] g = new double[nc][rounds];
        double[][] ratio = new double[nc][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < nc; i++) {
                int j = r % 2 == 0 ? i : nc - 1 - i; // alternate the order so no configuration always goes first
                g[j][r] = window(bs[j], x[j], s, WINDOW_NANOS);
            }
            for (int i = 0; i < nc; i++) {
                ratio[i][r] = g[i][r] / g[0][r];
            }
        }
        for (int i = 0; i < nc; i++) {
            double[] gs = g[i].clone(), rs = ratio[i].clone();
            Arrays.sort(gs);
            Arrays.sort(rs);
            if (System.getenv("ALL") != null) {
                System.out.println(Arrays.toString(Arrays.stream(g[i]).map(Math::round).toArray()));
            }
            System.out.printf(Locale.ROOT, "%-16s threads=%s %-28s median %6.1f best %6.1f GFLOP/s  ratio %.3f "
                    + "[%.3f-%.3f]%n", s.name(), threads, configs[i], gs[rounds / 2], gs[rounds - 1], rs[rounds / 2],
                    rs[rounds / 4], rs[rounds - 1 - rounds / 4]);
            for (Buffer b : x[i]) {
                bs[i].release(b);
            }
        }
    }

    /** GFLOP/s of back-to-back products for {@code nanos}. */
    private static double window(CpuBackend b, Buffer[] x, Shape s, long nanos) {
        int lda = s.ta() ? s.m() : s.k(), ldb = s.tb() ? s.k() : s.n();
        long t0 = System.nanoTime(), end = t0 + nanos, count = 0, t;
        do {
            b.gemm(s.ta(), s.tb(), s.m(), s.n(), s.k(), 1, x[0], 0, lda, x[1], 0, ldb, 0, x[2], 0, s.n(), 1, 0, 0, 0);
            count++;
        } while ((t = System.nanoTime()) < end);
        return 2.0 * s.m() * s.n() * s.k() * count / (t - t0);
    }
}
