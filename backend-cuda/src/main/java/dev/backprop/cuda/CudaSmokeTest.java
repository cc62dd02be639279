package dev.backprop.cuda;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;

import java.util.Arrays;

/**
 * The check {@link CudaBackendProvider#create} runs on a new backend before handing it out: an upload, a
 * kernel (so the PTX really JIT-compiled for this GPU), a cuBLAS GEMM and a download, compared with values
 * known exactly in float32.
 */
final class CudaSmokeTest {
    private CudaSmokeTest() {
    }

    /** Throws {@link BackendFailureException} (or the native failure) when the backend computes wrongly. */
    static void run(CudaBackend backend) {
        Buffer a = backend.allocate(DType.FLOAT32, 4);
        Buffer b = backend.allocate(DType.FLOAT32, 4);
        Buffer c = backend.allocate(DType.FLOAT32, 4);
        try {
            backend.upload(new float[] {1, 2, 3, 4}, 0, a, 0, 4);
            backend.unary(UnaryOp.NEG, 0, 0, a, 0, b, 0, 4);
            // [1 2; 3 4] · [-1 -2; -3 -4] = [-7 -10; -15 -22]
            backend.gemm(false, false, 2, 2, 2, 1.0, a, 0, 2, b, 0, 2, 0.0, c, 0, 2, 1, 4, 4, 4);
            float[] out = new float[4];
            backend.download(c, 0, out, 0, 4);
            float[] expected = {-7, -10, -15, -22};
            if (!Arrays.equals(out, expected)) {
                throw new BackendFailureException("cuda: smoke test computed " + Arrays.toString(out) + " for "
                        + Arrays.toString(expected));
            }
        } finally {
            backend.release(a);
            backend.release(b);
            backend.release(c);
        }
    }
}
