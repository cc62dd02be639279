package dev.backprop.cuda;

import dev.backprop.testing.ChildJvm;
import dev.backprop.testing.PlantedLibrary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole cuBLAS 13 path in a real JVM, without a GPU: {@link CublasLoader} finds a fake
 * {@code libcublas.so.13} (named by {@code backprop.cuda.cublas}), loads it and its {@code libcublasLt}
 * neighbour, loads the bundled shim with {@code System.load}, initializes JCublas2 (whose native needs
 * {@code libcublas.so.12} with versioned symbols) with no {@code LD_LIBRARY_PATH}, and the JCublas2 calls
 * reach the fake. Runs {@link ShimJvmMain} in a child JVM, since native loading cannot be undone.
 */
class CublasShimJvmTest {
    private static Path work;
    private static Path fake;

    @BeforeAll
    static void buildFake() throws Exception {
        Path gcc = TestTools.require("gcc", "the JVM-level shim test does not run", "/usr/bin/gcc");
        Assumptions.assumeTrue(CublasShim.supportedPlatform(), "the shim exists for Linux x86-64 only");
        work = Files.createTempDirectory("backprop-shim-jvm-");
        Path src = TestTools.moduleDir().resolve("src/test/shim");
        fake = work.resolve("libcublas.so.13");
        for (String[] lib : new String[][] {{"libcublas.so.13", "fake_cublas13.c"},
            {"libcublasLt.so.13", "fake_cublasLt13.c"}}) {
            TestTools.Result r = TestTools.run(List.of(gcc.toString(), "-shared", "-fPIC", "-Wl,-soname," + lib[0],
                    "-o", work.resolve(lib[0]).toString(), src.resolve(lib[1]).toString()), work, Map.of(), 120);
            assertEquals(0, r.exit(), r.output());
        }
    }

    @AfterAll
    static void clean() throws IOException {
        if (work != null) {
            PlantedLibrary.deleteTree(work);
        }
    }

    private static Map<String, String> runChild(String cublasPath, int driverVersion) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path tmp = Files.createDirectories(work.resolve("tmp-" + driverVersion + "-" + cublasPath.hashCode()));
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=" + tmp, "-Dbackprop.cuda.cublas=" + cublasPath, "-cp",
                ChildJvm.classPath(ShimJvmMain.class), ShimJvmMain.class.getName(), Integer.toString(driverVersion)));
        Map<String, String> env = new HashMap<>();
        env.put("LD_LIBRARY_PATH", "");
        env.put(CublasLocator.ENV, "");
        TestTools.Result r = TestTools.run(cmd, work, env, 120);
        assertEquals(0, r.exit(), r.output());
        Map<String, String> out = new HashMap<>();
        for (String line : r.output().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        out.put("output", r.output());
        out.put("tmp_left", PlantedLibrary.names(tmp));
        return out;
    }

    @Test
    void jcublas2RunsOnCublas13ThroughTheShim() throws Exception {
        Map<String, String> out = runChild(fake.toString(), 13000);
        assertEquals("null", out.get("reason"), out.get("output"));
        assertTrue(out.get("description").startsWith("13.2.1 (" + fake) && out.get("description").contains("shim"),
                "the version comes from the fake's cublasGetProperty, through JCublas2 and the shim: " + out);
        assertEquals("0", out.get("create"), out.get("output"));
        assertEquals("0", out.get("version_status"), out.get("output"));
        assertEquals("130201", out.get("version"), "cublasGetVersion reached the fake with the handle it made");
        assertEquals("15", out.get("set_stream"), "a function the fake lacks gives CUBLAS_STATUS_NOT_SUPPORTED");
        assertEquals("[]", out.get("tmp_left"), "the shim, the JCublas2 native and their folder are gone");
    }

    @Test
    void anOldDriverIsRefusedBeforeAnythingLoads() throws Exception {
        Map<String, String> out = runChild(fake.toString(), 12040);
        assertTrue(out.get("reason").contains("cuBLAS 13") && out.get("reason").contains("R580"), out.get("output"));
    }

    @Test
    void aWrongMajorIsReportedNotLoaded() throws Exception {
        Path eleven = work.resolve("libcublas.so.11");
        Files.copy(fake, eleven, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Map<String, String> out = runChild(eleven.toString(), 13000);
        assertTrue(out.get("reason").contains("cuBLAS 11"), out.get("output"));
    }
}
