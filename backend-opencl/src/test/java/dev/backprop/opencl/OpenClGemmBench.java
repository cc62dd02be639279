package dev.backprop.opencl;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * A quick GEMM throughput harness for tuning tiles on a device (not a unit test; JMH numbers come from the
 * benchmarks module). Square C = A·B, timed with {@code synchronize()} after each call.
 *
 * <pre>
 * java -cp ... dev.backprop.opencl.OpenClGemmBench 512,1024 [reps] [default | gemm spec, e.g. packed:192,128,64,6,16]
 *     [FLOAT32|FLOAT64] [NN|NT|TN|TT]
 * </pre>
 */
public final class OpenClGemmBench {
    private OpenClGemmBench() {
    }

    public static void main(String[] args) {
        int[] sizes = Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray();
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Map<String, String> opts = new HashMap<>();
        if (args.length > 2 && !args[2].equals("default")) {
            opts.put("gemm", args[2]);
        }
        DType dt = args.length > 3 ? DType.valueOf(args[3]) : DType.FLOAT32;
        String trans = args.length > 4 ? args[4] : "NN";
        boolean ta = trans.charAt(0) == 'T', tb = trans.charAt(1) == 'T';
        try (OpenClBackend be = (OpenClBackend) new OpenClBackendProvider().create(BackendOptions.of(opts))) {
            System.out.println(be.device().name() + " | " + be.gemmConfig(dt) + " | " + dt + " " + trans);
            for (int n : sizes) {
                Buffer a = filled(be, dt, (long) n * n, 1), b = filled(be, dt, (long) n * n, 2);
                Buffer c = be.allocate(dt, (long) n * n);
                double[] t = new double[reps];
                be.gemm(ta, tb, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n, 1, 0, 0, 0);
                be.synchronize();
                for (int r = 0; r < reps; r++) {
                    long s = System.nanoTime();
                    be.gemm(ta, tb, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n, 1, 0, 0, 0);
                    be.synchronize();
                    t[r] = (System.nanoTime() - s) / 1e9;
                }
                Arrays.sort(t);
                double flops = 2.0 * n * n * n;
                System.out.printf("n=%d  best %.1f GFLOP/s  median %.1f GFLOP/s  (%d reps)%n", n, flops / t[0] / 1e9,
                        flops / t[reps / 2] / 1e9, reps);
                be.release(a);
                be.release(b);
                be.release(c);
            }
        }
    }

    private static Buffer filled(OpenClBackend be, DType dt, long n, long seed) {
        Random rnd = new Random(seed);
        Buffer buf = be.allocate(dt, n);
        if (dt == DType.FLOAT64) {
            double[] v = new double[(int) n];
            Arrays.setAll(v, i -> rnd.nextDouble() - 0.5);
            be.upload(v, 0, buf, 0, v.length);
        } else {
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = rnd.nextFloat() - 0.5f;
            }
            be.upload(v, 0, buf, 0, v.length);
        }
        return buf;
    }
}
