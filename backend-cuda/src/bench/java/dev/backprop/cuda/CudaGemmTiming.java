package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Times square float32 GEMM on the cuda backend, the way {@code gemm_torch.py} times {@code torch.mm}:
 * uniform inputs in [-1, 1), 3 warm-up products, then 5 trials of {@code reps} back-to-back products timed
 * with CUDA events on the backend's stream, the median trial reported. Each size is also checked against
 * float64 dot products at 32 random entries (relative to {@code Σ|a·b|}). Run by {@code gpu-verify.sh}:
 * {@code CudaGemmTiming 1024 4096 8192}; prints one {@code gemm impl=backprop-cuda ...} line per size.
 * Exact float32 unless {@code -Dbackprop.cuda.precision=tf32} or {@code bf16} ({@link CudaPrecision}).
 */
public final class CudaGemmTiming {
    private static final int TRIALS = 5;

    private CudaGemmTiming() {
    }

    /** Back-to-back products per trial: about 2 TFLOP of work, between 3 and 500. */
    static int reps(int n) {
        double flops = 2.0 * n * n * n;
        return (int) Math.max(3, Math.min(500, Math.ceil(2e12 / flops)));
    }

    /** Times each size given as an argument. */
    public static void main(String[] args) {
        try (Backend backend = new CudaBackendProvider().create(BackendOptions.defaults())) {
            System.out.println("device: " + backend.device().describe());
            System.out.println("capabilities: " + backend.capabilities().details());
            for (String arg : args) {
                run((CudaBackend) backend, Integer.parseInt(arg));
            }
        }
    }

    private static void run(CudaBackend be, int n) {
        Random random = new Random(n);
        float[] a = new float[n * n];
        float[] b = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextFloat() * 2 - 1;
            b[i] = random.nextFloat() * 2 - 1;
        }
        Buffer da = be.allocate(DType.FLOAT32, (long) n * n);
        Buffer db = be.allocate(DType.FLOAT32, (long) n * n);
        Buffer dc = be.allocate(DType.FLOAT32, (long) n * n);
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        try {
            be.upload(a, 0, da, 0, a.length);
            be.upload(b, 0, db, 0, b.length);
            for (int i = 0; i < 3; i++) {
                gemm(be, n, da, db, dc);
            }
            be.synchronize();
            CudaCheck.check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
            CudaCheck.check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
            int reps = reps(n);
            double[] perProduct = new double[TRIALS];
            for (int t = 0; t < TRIALS; t++) {
                CudaCheck.check(JCudaDriver.cuEventRecord(start, be.context().stream), "cuEventRecord");
                for (int i = 0; i < reps; i++) {
                    gemm(be, n, da, db, dc);
                }
                CudaCheck.check(JCudaDriver.cuEventRecord(stop, be.context().stream), "cuEventRecord");
                CudaCheck.check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
                float[] ms = new float[1];
                CudaCheck.check(JCudaDriver.cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
                perProduct[t] = ms[0] / reps;
            }
            Arrays.sort(perProduct);
            double median = perProduct[TRIALS / 2];
            float[] c = new float[n * n];
            be.download(dc, 0, c, 0, c.length);
            System.out.printf(Locale.ROOT, "gemm impl=backprop-cuda n=%d reps=%d median_ms=%.4f tflops=%.2f "
                            + "min_ms=%.4f max_ms=%.4f check_maxrel=%.2e precision=%s%n", n, reps, median,
                    2.0 * n * n * n / (median * 1e-3) / 1e12, perProduct[0], perProduct[TRIALS - 1],
                    check(a, b, c, n, random), CudaPrecision.of(BackendOptions.defaults()).key());
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
            be.release(da);
            be.release(db);
            be.release(dc);
        }
    }

    private static void gemm(Backend be, int n, Buffer a, Buffer b, Buffer c) {
        be.gemm(false, false, n, n, n, 1.0, a, 0, n, b, 0, n, 0.0, c, 0, n, 1, 0, 0, 0);
    }

    /** Largest |c - exact| / Σ|a·b| over 32 random entries (float32 accumulation stays far below 1e-5). */
    static double check(float[] a, float[] b, float[] c, int n, Random random) {
        double worst = 0;
        for (int s = 0; s < 32; s++) {
            int i = random.nextInt(n);
            int j = random.nextInt(n);
            double exact = 0;
            double terms = 0;
            for (int p = 0; p < n; p++) {
                double t = (double) a[i * n + p] * b[p * n + j];
                exact += t;
                terms += Math.abs(t);
            }
            worst = Math.max(worst, Math.abs(c[i * n + j] - exact) / terms);
        }
        return worst;
    }
}
