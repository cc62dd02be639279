package dev.backprop.opencl;

import dev.backprop.backend.DeviceType;
import dev.backprop.testing.ChildJvm;
import dev.backprop.testing.PlantedLibrary;
import org.jocl.CL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JOCL's native library comes only from a private directory ({@link OpenClNatives}): a library planted at the
 * fixed path JOCL's own loader uses ({@code java.io.tmpdir/libJOCL_2_0_6-linux-x86_64.so}), built with gcc so
 * that it records every load, never runs during the probe of automatic selection or the creation of a backend in
 * a child JVM whose {@code java.io.tmpdir} holds it, while JOCL's own loading does run it. PoCL is refused where
 * it would load compiled kernels from {@code /tmp/pocl}.
 */
class OpenClNativesTest {
    private static final String JOCL_FILE = OpenClNatives.resource().fileName();

    @RegisterExtension
    static final PlantedLibrary planted = new PlantedLibrary("backprop-opencl-natives-");

    private static Map<String, String> run(Path tmpdir, String mode) throws Exception {
        Map<String, String> out = ChildJvm.run(OpenClNativesMain.class, List.of("-Djava.io.tmpdir=" + tmpdir),
                List.of(), mode).succeeded();
        out.put("left", PlantedLibrary.names(tmpdir));
        return out;
    }

    @Test
    void probeAndCreationNeverLoadThePlantedLibrary() throws Exception {
        OpenClTestSupport.requireOpenCl();
        Path tmpdir = planted.tmpdir("1777", JOCL_FILE); // as /tmp: anyone may add files, only their owner remove
        Map<String, String> out = run(tmpdir, "backend");
        assertEquals("true", out.get("available"), out.get("output"));
        assertNotNull(out.get("created"), out.get("output"));
        assertEquals(List.of(), planted.loads(), out.get("output"));
        String mapped = out.get("mapped");
        assertTrue(mapped.matches("\\[" + tmpdir + "/backprop-natives-[^/]+/" + JOCL_FILE + " \\(deleted\\)]"),
                "JOCL ran from a private directory that is gone now: " + mapped);
        assertEquals("[" + JOCL_FILE + "]", out.get("left"), "only the planted file is left");
    }

    @Test
    void joclsOwnLoaderRunsThePlantedLibrary() throws Exception {
        Path tmpdir = planted.tmpdir("1777", JOCL_FILE);
        Map<String, String> out = run(tmpdir, "jocl");
        assertEquals(List.of(tmpdir.resolve(JOCL_FILE).toString()), planted.loads(),
                "without OpenClNatives the planted library runs, so the test above would see it: " + out.get("output"));
    }

    @Test
    void aTmpdirOthersCanRenameInMakesOpenClUnavailableWithTheReason() throws Exception {
        Path tmpdir = planted.tmpdir("0777", JOCL_FILE);
        Map<String, String> out = run(tmpdir, "backend");
        assertEquals("false", out.get("available"), out.get("output"));
        assertEquals("JOCL's native library was not loaded: no private directory for " + JOCL_FILE
                + " in java.io.tmpdir (" + tmpdir + "): " + tmpdir + " is writable by other users and not sticky "
                + "(mode 777); set java.io.tmpdir (-Djava.io.tmpdir=...) to a directory that only this user can write",
                out.get("reason"));
        assertEquals(List.of(), planted.loads());
        assertEquals("[]", out.get("mapped"));
        assertEquals("[" + JOCL_FILE + "]", out.get("left"));
    }

    @Test
    void theLibraryNameFollowsTheJoclVersion() throws IOException {
        Properties pom = new Properties();
        try (InputStream in = CL.class.getResourceAsStream("/META-INF/maven/org.jocl/jocl/pom.properties")) {
            pom.load(in);
        }
        assertEquals("JOCL_" + pom.getProperty("version").replace('.', '_'), OpenClNatives.LIBRARY);
    }

    @Test
    void aPoclKernelCacheInTmpIsRefused() {
        OpenClDevice pocl = device("Portable Computing Language");
        OpenClCheck.OpenClUnavailableException e = assertThrows(OpenClCheck.OpenClUnavailableException.class,
                () -> OpenClNatives.checkKernelCache(pocl, Map.of("XDG_CACHE_HOME", "")));
        assertTrue(e.getMessage().startsWith("PoCL would load the kernels it compiles from /tmp/pocl/kcache"),
                e.getMessage());
        for (Map<String, String> env : List.of(Map.of("HOME", "/home/u"), Map.of("XDG_CACHE_HOME", "/home/u/.cache"),
                Map.of("POCL_CACHE_DIR", "/home/u/pocl"))) {
            assertDoesNotThrow(() -> OpenClNatives.checkKernelCache(pocl, env), env.toString());
        }
        assertDoesNotThrow(() -> OpenClNatives.checkKernelCache(device("NVIDIA CUDA"), Map.of()),
                "other drivers keep no such cache");
    }

    private static OpenClDevice device(String platform) {
        return new OpenClDevice(0, null, null, "dev", platform, DeviceType.CPU, 1 << 30, 1 << 28, 65536, 4096, 4, true,
                "OpenCL 3.0", "1");
    }
}
