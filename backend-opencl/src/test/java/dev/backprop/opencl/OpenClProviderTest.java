package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.Probe;
import dev.backprop.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The provider: ServiceLoader registration, the probe on this machine (devices, types, rank), device selection
 * through {@code backprop.opencl.device}, and the probe's reasons when OpenCL is broken, checked in child JVMs
 * whose environment hides the ICD's vendors ({@code OCL_ICD_VENDORS=/nonexistent}: no platform) or PoCL's
 * devices ({@code POCL_DEVICES=nonexistent}: no device).
 */
class OpenClProviderTest {
    @Test
    void registeredWithServiceLoader() {
        boolean found = ServiceLoader.load(dev.backprop.backend.BackendProvider.class).stream()
                .anyMatch(p -> p.type() == OpenClBackendProvider.class);
        assertTrue(found, "META-INF/services lists OpenClBackendProvider");
        assertEquals("opencl", new OpenClBackendProvider().name());
    }

    @Test
    void probeListsDevicesWithTypeAndRank() {
        Probe p = OpenClTestSupport.requireOpenCl();
        assertFalse(p.devices().isEmpty(), "an available probe lists its devices");
        boolean anyGpu = p.devices().stream().anyMatch(d -> d.type() == DeviceType.GPU);
        assertEquals(anyGpu ? Probe.RANK_GPU : Probe.RANK_EMULATED, p.rank(),
                "GPU ranks as a GPU, a CPU device (PoCL) below the cpu backend: " + p.reason());
        assertTrue(p.reason().contains(p.devices().get(0).name()), "the summary names the devices: " + p.reason());
    }

    @Test
    void deviceSelectedByIndexAndByName() {
        Probe p = OpenClTestSupport.requireOpenCl();
        String name = p.devices().get(0).name();
        try (Backend byIndex = create(Map.of("device", "0"))) {
            assertEquals(name, byIndex.device().name());
        }
        String fragment = name.substring(0, Math.min(6, name.length())).toUpperCase();
        try (Backend byName = create(Map.of("device", fragment))) {
            assertEquals(name, byName.device().name(), "name substring, case-insensitive: " + fragment);
        }
    }

    @Test
    void unknownDeviceIsAClearReason() {
        OpenClTestSupport.requireOpenCl();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> create(Map.of("device", "no-such-device-anywhere")));
        assertTrue(e.getMessage().contains("no-such-device-anywhere") && e.getMessage().contains("#0"),
                "names the selector and lists the devices: " + e.getMessage());
        BackendUnavailableException e2 = assertThrows(BackendUnavailableException.class,
                () -> create(Map.of("device", "99")));
        assertTrue(e2.getMessage().contains("'99'"), e2.getMessage());
    }

    @Test
    void badGemmSpecIsRejected() {
        OpenClTestSupport.requireOpenCl();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> create(Map.of("gemm", "packed:100,64,64,6,16")));
        assertTrue(e.getMessage().contains("TM,TN,KB,MR,NR"), e.getMessage());
    }

    @Test
    void noPlatformReasonInChildJvm() throws Exception {
        OpenClTestSupport.requireOpenCl(); // the child's reason is only meaningful where OpenCL works otherwise
        Map<String, String> out = probeInChild(Map.of("OCL_ICD_VENDORS", "/nonexistent"));
        assertEquals("false", out.get("available"), "no ICD vendor file: unavailable; " + out);
        assertTrue(out.get("reason").contains("no OpenCL platform")
                && out.get("reason").contains("CL_PLATFORM_NOT_FOUND_KHR")
                && out.get("reason").contains("pocl-opencl-icd"), "reason: " + out.get("reason"));
    }

    @Test
    void noDeviceReasonInChildJvm() throws Exception {
        Probe here = OpenClTestSupport.requireOpenCl();
        boolean pocl = here.devices().stream().allMatch(d -> "Portable Computing Language".equals(
                d.details().get("platform")));
        org.junit.jupiter.api.Assumptions.assumeTrue(pocl, "POCL_DEVICES only hides devices where PoCL is the "
                + "only platform; platforms here: " + here.reason());
        Map<String, String> out = probeInChild(Map.of("POCL_DEVICES", "nonexistent"));
        assertEquals("false", out.get("available"), "no device: unavailable; " + out);
        assertTrue(out.get("reason").contains("no device"), "reason: " + out.get("reason"));
    }

    /** Regression: simultaneous first discoveries crashed PoCL (SIGSEGV) in about 1 JVM in 5 before they were
     *  serialized; five fresh JVMs with four probing threads each make a crash here likely if it comes back. */
    @Test
    void simultaneousFirstProbesInChildJvms() throws Exception {
        OpenClTestSupport.requireOpenCl();
        for (int run = 0; run < 5; run++) {
            Map<String, String> out = probeInChild(Map.of(), "threads=4");
            assertEquals("true", out.get("available"), "run " + run + ": " + out);
            assertEquals("true", out.get("agree"), "run " + run + ": every thread saw the same probe; " + out);
        }
    }

    /** The build preloads the JDK's libjsig into test JVMs (PoCL would otherwise replace the JVM's SIGSEGV handler
     *  and a safepoint could kill the JVM); checked in this JVM's own memory map, so a lost pom setting fails here. */
    @Test
    void testJvmRunsWithLibjsig() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                java.nio.file.Files.exists(java.nio.file.Path.of("/proc/self/maps")),
                "no /proc/self/maps on this OS: libjsig's preload is a Linux measure");
        String maps = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/maps"));
        assertTrue(maps.contains(System.getProperty("java.home") + "/lib/libjsig.so"),
                "this JVM's libjsig is loaded; LD_PRELOAD=" + System.getenv("LD_PRELOAD"));
    }

    private static Backend create(Map<String, String> options) {
        return new OpenClBackendProvider().create(BackendOptions.of(options));
    }

    /** Runs {@link ProbeMain} in a child JVM with extra environment variables and parses its output. */
    private static Map<String, String> probeInChild(Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(ChildJvm.classPath(ProbeMain.class));
        cmd.add(ProbeMain.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (env.containsKey("OCL_ICD_VENDORS")) {
            pb.environment().remove("OCL_ICD_FILENAMES"); // it would name a driver past the vendors directory
        }
        pb.environment().putAll(env);
        Process proc = pb.start();
        String text = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
        assertEquals(0, proc.exitValue(), "child JVM exit status; output:\n" + text);
        java.util.Map<String, String> out = new java.util.HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0 && line.matches("^(available|rank|reason|agree)=.*")) {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        assertTrue(out.containsKey("available") && out.containsKey("reason"), "child printed a probe:\n" + text);
        return out;
    }
}
