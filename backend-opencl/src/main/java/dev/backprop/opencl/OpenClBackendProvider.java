package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.BackpropException;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.Probe;
import dev.backprop.backend.base.BaseProvider;
import dev.backprop.opencl.OpenClCheck.OpenClUnavailableException;

import java.util.List;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The {@code opencl} provider (registered in {@code META-INF/services}).
 *
 * <p><b>Probe:</b> loads JOCL, lists every platform's devices with their type, and picks the device
 * {@link #create} would use; it never throws and compiles nothing. Reasons when unavailable: no ICD loader
 * ({@code libOpenCL.so.1} missing), no platform ({@code CL_PLATFORM_NOT_FOUND_KHR}), no device, a
 * {@code backprop.opencl.device} that matches nothing, no private directory for JOCL's native library, or a
 * PoCL kernel cache in {@code /tmp} (both in {@link OpenClNatives}). Rank: {@link Probe#RANK_GPU} on a GPU,
 * {@link Probe#RANK_EMULATED} on a CPU device (PoCL), so automatic selection prefers {@code cpu} there.
 *
 * <p><b>Options</b> ({@link BackendOptions}, key or system property {@code backprop.opencl.<key>}):
 * {@code device} (an index from the probe's list, or a case-insensitive substring of a device or platform
 * name; default: the first GPU, else the first accelerator, else the first CPU device) and {@code gemm}
 * ({@code packed} or {@code tiled}, to force a GEMM kernel variant).
 *
 * <p><b>Create:</b> context and queue, every program built for every supported dtype (a build failure reports
 * the build log), then a smoke test that runs a GEMM, a softmax and a reduction and checks the results.
 */
public final class OpenClBackendProvider extends BaseProvider {
    /** The provider name. */
    public static final String NAME = "opencl";

    private static final Logger LOG = Logger.getLogger(OpenClBackendProvider.class.getName());
    private static boolean jsigWarned;

    /** The first link failure of JOCL in this JVM: later attempts only see NoClassDefFoundError. */
    private static volatile Throwable linkFailure;

    /** Does nothing else: the registry instantiates every provider, available or not. */
    public OpenClBackendProvider() {
        super(NAME);
    }

    @Override
    public Probe probe() {
        try {
            List<OpenClDevice> devices = discover();
            OpenClDevice chosen = OpenClDevices.select(devices, BackendOptions.defaults().get(NAME, "device"));
            OpenClNatives.checkKernelCache(chosen, System.getenv());
            int rank = chosen.type() == DeviceType.GPU ? Probe.RANK_GPU : Probe.RANK_EMULATED;
            String summary = "OpenCL on " + chosen.label() + (chosen.type() == DeviceType.GPU ? ""
                    : " (a CPU device: ranks below the cpu backend in automatic selection)") + "; devices: "
                    + devices.stream().map(OpenClDevice::label).collect(Collectors.joining("; "));
            List<DeviceInfo> infos = devices.stream().map(OpenClDevice::info).collect(Collectors.toList());
            return Probe.available(summary, infos, rank);
        } catch (Throwable t) {
            return Probe.unavailable(reason(t));
        }
    }

    /**
     * @throws BackendUnavailableException when OpenCL or the selected device is unusable, when a kernel does not
     *                                     build (the message carries the build log) or the smoke test fails
     */
    @Override
    public Backend create(BackendOptions options) {
        OpenClDevice device;
        try {
            device = OpenClDevices.select(discover(), options.get(NAME, "device"));
            OpenClNatives.checkKernelCache(device, System.getenv());
        } catch (Throwable t) {
            throw new BackendUnavailableException("opencl unavailable: " + reason(t), t);
        }
        if (device.maxWorkGroupSize() < 64) {
            throw new BackendUnavailableException("opencl unavailable: " + device.label()
                    + " allows work-groups of only " + device.maxWorkGroupSize() + " work-items; the kernels need 64");
        }
        OpenClRuntime rt;
        try {
            rt = OpenClRuntime.open(device);
        } catch (BackpropException e) {
            throw new BackendUnavailableException("opencl unavailable: cannot open " + device.label() + ": "
                    + e.getMessage(), e);
        }
        OpenClBackend backend;
        try {
            backend = new OpenClBackend(rt, options.get(NAME, "gemm").orElse(null));
        } catch (RuntimeException e) { // the backend closed the runtime it took over
            throw new BackendUnavailableException("opencl unavailable on " + device.label() + ": " + e.getMessage(), e);
        }
        try {
            OpenClSmokeTest.run(backend, DType.FLOAT32);
            if (device.fp64()) {
                OpenClSmokeTest.run(backend, DType.FLOAT64);
            }
        } catch (RuntimeException e) {
            try {
                backend.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new BackendUnavailableException("opencl unavailable: the smoke test failed on " + device.label()
                    + ": " + e.getMessage(), e);
        }
        return backend;
    }

    /*
     * Synchronized because two threads making their first OpenCL calls at once crash PoCL in this JVM (SIGSEGV under
     * clGetDeviceInfo, about 1 run in 5 when Spark's local ranks start together); after one discovery, concurrent ones
     * are safe, but serializing them all costs nothing next to a backend's creation.
     */
    private static synchronized List<OpenClDevice> discover() throws OpenClUnavailableException {
        Throwable earlier = linkFailure;
        if (earlier != null) {
            throw new LinkageErrorReplay(earlier);
        }
        try {
            List<OpenClDevice> devices = OpenClDevices.discover();
            warnWithoutJsig(devices);
            return devices;
        } catch (LinkageError e) {
            linkFailure = e;
            throw e;
        }
    }

    /*
     * PoCL's device initialization installs LLVM's crash handlers over the JVM's SIGSEGV handler, with SA_RESETHAND;
     * the JVM takes SIGSEGV at every safepoint poll, so two threads polling at once then kill it (exit 139, about 1
     * JVM in 7 measured here). The JDK's libjsig, preloaded, keeps the JVM's handler and chains LLVM's.
     */
    private static void warnWithoutJsig(List<OpenClDevice> devices) {
        boolean pocl = devices.stream().anyMatch(d -> d.platformName().contains("Portable Computing Language"));
        String preload = System.getenv("LD_PRELOAD");
        if (pocl && !jsigWarned && (preload == null || !preload.contains("libjsig"))) {
            jsigWarned = true;
            LOG.warning("opencl: PoCL replaces the JVM's SIGSEGV handler, which can crash this JVM at a safepoint; "
                    + "start Java with LD_PRELOAD=" + System.getProperty("java.home") + "/lib/libjsig.so "
                    + "(bin/backprop and the build do)");
        }
    }

    private static String reason(Throwable t) {
        return OpenClCheck.unavailableReason(t instanceof LinkageErrorReplay ? t.getCause() : t);
    }

    /** Re-reports the JOCL link failure that happened on an earlier probe in this JVM. */
    private static final class LinkageErrorReplay extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LinkageErrorReplay(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }
}
