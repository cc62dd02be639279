package dev.backprop.cuda;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.DeviceInfo;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import jcuda.runtime.JCuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The one-time native setup of this JVM and its cached verdict: whether the JCuda driver binding loads,
 * what the driver and its devices are, whether the shipped PTX can run, and which cuBLAS was loaded.
 *
 * <p>Computed once, on the first probe or create, and never retried: JCuda's first failed touch throws
 * {@link UnsatisfiedLinkError} and every later touch {@link NoClassDefFoundError}, so a retry could only
 * replace a precise reason by a vague one. Every {@link Throwable} is caught; nothing reaches the registry.
 */
final class CudaEnvironment {
    /**
     * The verdict.
     *
     * @param reason         why the backend cannot run, or null when it can
     * @param driverVersion  {@code cuDriverGetVersion}, or 0 when unknown
     * @param runtimeVersion the CUDA runtime JCuda was built with, or 0 when unknown
     * @param devices        every device the driver reports
     * @param cublas         the loaded cuBLAS (version and path), or null
     */
    record Verdict(String reason, int driverVersion, int runtimeVersion, List<CudaDeviceFacts> devices,
                   String cublas) {
        Verdict {
            devices = List.copyOf(devices);
        }

        boolean available() {
            return reason == null;
        }

        static Verdict unavailable(String reason) {
            return new Verdict(reason, 0, 0, List.of(), null);
        }

        /** Device {@code index} as {@code backprop backends} shows it. */
        DeviceInfo deviceInfo(int index) {
            return devices.get(index).toDeviceInfo(driverVersion, runtimeVersion, cublas);
        }
    }

    private static Verdict verdict;

    private CudaEnvironment() {
    }

    /** The verdict, computed on first use. */
    static synchronized Verdict get() {
        if (verdict == null) {
            try {
                verdict = compute();
            } catch (Throwable t) {
                verdict = Verdict.unavailable("the cuda probe failed unexpectedly: " + NativeFailures.summary(t));
            }
        }
        return verdict;
    }

    private static Verdict compute() {
        int rc;
        try {
            CudaNatives.loadDriver();
            rc = JCudaDriver.cuInit(0);
        } catch (Throwable t) {
            return Verdict.unavailable(NativeFailures.driver(t));
        }
        if (rc == CUresult.CUDA_ERROR_NO_DEVICE) {
            return Verdict.unavailable("no CUDA device: the NVIDIA driver (libcuda.so.1) loaded but reports no GPU "
                    + "(cuInit: CUDA_ERROR_NO_DEVICE); check nvidia-smi and CUDA_VISIBLE_DEVICES");
        }
        if (rc != CUresult.CUDA_SUCCESS) {
            return Verdict.unavailable("the NVIDIA driver failed to initialize (cuInit: " + CUresult.stringFor(rc)
                    + (rc == CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH ? "; the user-space driver and the kernel "
                    + "module differ in version: reboot or reinstall the driver" : "") + ")");
        }
        int[] value = new int[1];
        CudaCheck.check(JCudaDriver.cuDriverGetVersion(value), "cuDriverGetVersion");
        int driver = value[0];
        CudaCheck.check(JCudaDriver.cuDeviceGetCount(value), "cuDeviceGetCount");
        if (value[0] == 0) {
            return Verdict.unavailable("no CUDA device: the NVIDIA driver (CUDA " + DriverRequirements.format(driver)
                    + ") found 0 GPUs; check nvidia-smi and CUDA_VISIBLE_DEVICES");
        }
        List<CudaDeviceFacts> devices = new ArrayList<>();
        for (int i = 0; i < value[0]; i++) {
            devices.add(CudaDeviceFacts.query(i));
        }
        String problem = DriverRequirements.ptxProblem(driver, PtxModule.newestIsa());
        if (problem == null) {
            problem = selectionProblem(BackendOptions.defaults(), devices);
        }
        if (problem != null) {
            return new Verdict(problem, driver, 0, devices, null);
        }
        CublasLoader.Outcome cublas = CublasLoader.load(driver);
        if (!cublas.ok()) {
            return new Verdict(cublas.reason(), driver, 0, devices, null);
        }
        return new Verdict(null, driver, runtimeVersion(), devices, cublas.description());
    }

    private static int runtimeVersion() {
        try {
            CudaNatives.loadRuntime();
            int[] v = new int[1];
            return JCuda.cudaRuntimeGetVersion(v) == 0 ? v[0] : 0;
        } catch (Throwable t) {
            return 0;
        }
    }

    /** The device index {@code options} select ({@code backprop.cuda.device}, default 0). */
    static int selectedIndex(BackendOptions options) {
        return options.getInt("cuda", "device", 0);
    }

    /** Null when {@code options} select a usable device among {@code devices}, else the reason. */
    static String selectionProblem(BackendOptions options, List<CudaDeviceFacts> devices) {
        int index;
        try {
            index = selectedIndex(options);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (index < 0 || index >= devices.size()) {
            return "backprop.cuda.device=" + index + " but the driver reports " + devices.size() + " device(s) "
                    + "(indices 0.." + (devices.size() - 1) + ")";
        }
        CudaDeviceFacts d = devices.get(index);
        return DriverRequirements.deviceProblem("device " + index + " (" + d.name() + ")", d.major(), d.minor());
    }
}
