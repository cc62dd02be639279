package dev.backprop.cuda;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.Probe;
import dev.backprop.runtime.Backends;
import dev.backprop.runtime.ProviderStatus;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The provider as the registry sees it. On a machine without a GPU (CI) the probe must say so with the
 * expected no-GPU reason, not with some other failure that would hide a broken installation; on a GPU
 * machine it must be available with a GPU rank above every other backend.
 */
class CudaProbeTest {
    private static final CudaBackendProvider PROVIDER = new CudaBackendProvider();

    /** What a machine without an NVIDIA GPU reports: no driver library, or a driver with no device. */
    static boolean isNoGpuReason(String reason) {
        return reason.startsWith("no NVIDIA driver: libcuda.so.1 cannot be loaded")
                || reason.startsWith("no CUDA device:");
    }

    @Test
    void registeredWithServiceLoader() {
        boolean found = ServiceLoader.load(BackendProvider.class).stream()
                .anyMatch(p -> p.type() == CudaBackendProvider.class);
        assertTrue(found, "META-INF/services registers CudaBackendProvider");
        assertEquals("cuda", PROVIDER.name());
    }

    @Test
    void withoutGpuTheReasonIsTheNoGpuOne() {
        Probe probe = PROVIDER.probe();
        Assumptions.assumeFalse(probe.available(), "a CUDA GPU is usable here (" + probe.reason()
                + "); the no-GPU reason cannot be checked on this machine");
        assertTrue(isNoGpuReason(probe.reason()), "expected the no-GPU reason (libcuda.so.1 missing or no CUDA "
                + "device), got: " + probe.reason());
        assertTrue(probe.devices().isEmpty(), "no devices without a GPU");
    }

    @Test
    void theVerdictIsCachedSoALaterProbeGivesTheSamePreciseReason() {
        Probe first = PROVIDER.probe();
        Probe second = new CudaBackendProvider().probe();
        assertEquals(first, second, "JCuda throws NoClassDefFoundError on a second touch; the cached verdict "
                + "must keep the first, precise reason");
    }

    @Test
    void theRegistryReportsTheSameReasonAndNeverThrows() {
        Probe probe = PROVIDER.probe();
        List<ProviderStatus> all = Backends.probeAll();
        ProviderStatus cuda = all.stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        assertEquals(probe, cuda.probe());
        if (!probe.available()) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.get("cuda"));
            assertTrue(e.getMessage().contains(probe.reason()), "Backends.get carries the probe reason: "
                    + e.getMessage());
        }
    }

    @Test
    void createWithoutGpuThrowsTheProjectsExceptionNotALinkageError() {
        Probe probe = PROVIDER.probe();
        Assumptions.assumeFalse(probe.available(), "a CUDA GPU is usable here; create() succeeds");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> PROVIDER.create(BackendOptions.defaults()));
        assertTrue(e.getMessage().contains(probe.reason()), e.getMessage());
    }

    @Test
    void onAGpuTheProbeRanksAboveOpenClAndNamesTheDevice() {
        Probe probe = PROVIDER.probe();
        Assumptions.assumeTrue(probe.available(), () -> "cuda unavailable here: " + probe.reason());
        assertEquals(Probe.RANK_GPU + 10, probe.rank());
        assertFalse(probe.devices().isEmpty());
        String line = probe.devices().get(0).describe();
        for (String key : new String[] {"compute=", "driver=", "runtime=", "cublas="}) {
            assertTrue(line.contains(key), "device line has " + key + ": " + line);
        }
    }
}
