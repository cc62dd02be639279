package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.Probe;
import dev.backprop.backend.base.BaseProvider;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code cuda} backend provider (NVIDIA GPUs through JCuda 12.6 and JCublas 12.6).
 *
 * <p>Settings ({@link BackendOptions} keys, or system properties {@code backprop.cuda.<key>}):
 * <ul>
 *   <li>{@code device}: device index, default 0;</li>
 *   <li>{@code precision}: {@code fp32} (default, exact float32 GEMM), {@code tf32} or {@code bf16} (see
 *       {@link CudaPrecision}); {@code tf32=true} is the older spelling of {@code precision=tf32};</li>
 *   <li>{@code graphs}: {@code true} captures training steps as CUDA graphs (see {@link CudaGraphs}); default
 *       {@code false} until verified on a GPU;</li>
 *   <li>{@code deterministic}: {@code false} allows cuBLAS's non-deterministic atomics; default {@code true};</li>
 *   <li>{@code cublas}: path of the cuBLAS library to use (also {@code BACKPROP_CUBLAS_LIBRARY}).</li>
 * </ul>
 * The probe is cheap: it loads the driver and cuBLAS libraries and reads device facts, but creates no context.
 */
public final class CudaBackendProvider extends BaseProvider {
    /** Creates the provider; touches no native library. */
    public CudaBackendProvider() {
        super("cuda");
    }

    @Override
    public Probe probe() {
        try {
            CudaEnvironment.Verdict v = CudaEnvironment.get();
            if (!v.available()) {
                return Probe.unavailable(v.reason());
            }
            List<DeviceInfo> devices = new ArrayList<>();
            for (int i = 0; i < v.devices().size(); i++) {
                devices.add(v.deviceInfo(i));
            }
            CudaDeviceFacts chosen = v.devices().get(CudaEnvironment.selectedIndex(BackendOptions.defaults()));
            String summary = chosen.name() + " (compute " + chosen.computeCapability() + "), driver CUDA "
                    + DriverRequirements.format(v.driverVersion()) + ", cuBLAS " + v.cublas();
            return Probe.available(summary, devices, Probe.RANK_GPU + 10);
        } catch (Throwable t) {
            return Probe.unavailable("the cuda probe failed unexpectedly: " + NativeFailures.summary(t));
        }
    }

    @Override
    public Backend create(BackendOptions options) {
        CudaPrecision precision = CudaPrecision.of(options); // a bad option is an error even without a GPU
        CudaEnvironment.Verdict v = CudaEnvironment.get();
        if (!v.available()) {
            throw new BackendUnavailableException("cuda unavailable: " + v.reason());
        }
        String problem = CudaEnvironment.selectionProblem(options, v.devices());
        if (problem != null) {
            throw new BackendUnavailableException("cuda unavailable: " + problem);
        }
        int index = CudaEnvironment.selectedIndex(options);
        boolean deterministic = options.getBoolean("cuda", "deterministic", true);
        Map<String, String> details = new LinkedHashMap<>();
        details.put("cublas", v.cublas());
        details.put("precision", switch (precision) {
            case FP32 -> "fp32 (exact float32 GEMM)";
            case TF32 -> "tf32 (float32 GEMM on TF32 tensor cores)";
            case BF16 -> "bf16 (float32 GEMM operands rounded to bfloat16, float32 accumulation)";
        });
        details.put("deterministic", Boolean.toString(deterministic));
        details.put("ptx", "ISA " + PtxModule.newestIsa() + ", target sm_75, JIT-compiled by the driver");
        CudaContext context;
        try {
            context = CudaContext.open(v.devices().get(index), v.driverVersion(),
                    precision == CudaPrecision.TF32, deterministic);
        } catch (RuntimeException e) {
            throw new BackendUnavailableException("cuda failed to start on " + v.deviceInfo(index).name() + ": "
                    + e.getMessage(), e);
        }
        CudaBackend backend = new CudaBackend(context, v.deviceInfo(index), details, precision,
                CudaGraphs.enabled(options));
        try {
            CudaSmokeTest.run(backend);
        } catch (RuntimeException e) {
            try {
                backend.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new BackendUnavailableException("cuda failed its start-up check on " + v.deviceInfo(index).name()
                    + ": " + e.getMessage(), e);
        }
        return backend;
    }
}
