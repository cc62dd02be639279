package dev.backprop.cuda;

import dev.backprop.testing.ChildJvm;
import dev.backprop.testing.PlantedLibrary;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.runtime.JCuda;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JCuda natives come only from private directories ({@link CudaNatives}): libraries planted at the fixed
 * paths JCuda's own loader uses ({@code java.io.tmpdir/libJCudaDriver-12.6.0-linux-x86_64.so}, the runtime's and
 * JCublas2's), built with gcc so that they record every load, never run during the cuda probe or the loading of
 * cuBLAS (through the bundled shim, onto a fake cuBLAS 13) in a child JVM whose {@code java.io.tmpdir} holds
 * them, while JCuda's own loading runs all three. Needs no GPU.
 */
class CudaNativesTest {
    private static final List<String> JCUDA_FILES = List.of(
            CudaNatives.resource(JCudaDriver.class, "JCudaDriver").fileName(),
            CudaNatives.resource(JCuda.class, "JCudaRuntime").fileName(),
            CudaNatives.resource(JCublas2.class, "JCublas2").fileName());
    private static Path work;
    private static Path marker;
    private static Path gcc;
    private static Path fakeCublas;

    @BeforeAll
    static void build() throws Exception {
        gcc = PlantedLibrary.gcc();
        work = Files.createTempDirectory("backprop-cuda-natives-");
        marker = work.resolve("loads.txt");
        Path src = TestTools.moduleDir().resolve("src/test/shim");
        for (String[] lib : new String[][] {{"libcublas.so.13", "fake_cublas13.c"},
            {"libcublasLt.so.13", "fake_cublasLt13.c"}}) {
            TestTools.Result r = TestTools.run(List.of(gcc.toString(), "-shared", "-fPIC", "-Wl,-soname," + lib[0],
                    "-o", work.resolve(lib[0]).toString(), src.resolve(lib[1]).toString()), work, Map.of(), 120);
            assertEquals(0, r.exit(), r.output());
        }
        fakeCublas = work.resolve("libcublas.so.13");
    }

    @AfterAll
    static void clean() throws IOException {
        if (work != null) {
            try (Stream<Path> all = Files.walk(work)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @BeforeEach
    void noLoadsYet() throws IOException {
        Files.deleteIfExists(marker);
    }

    /** A fresh java.io.tmpdir like /tmp (mode 1777) with libraries planted at JCuda's three paths. */
    private static Path tmpdirWithPlants() throws Exception {
        Path dir = Files.createTempDirectory(work, "tmp-");
        for (String name : JCUDA_FILES) {
            PlantedLibrary.compile(gcc, dir.resolve(name), marker);
        }
        assertEquals(0, new ProcessBuilder("chmod", "1777", dir.toString()).inheritIO().start().waitFor());
        return dir.toRealPath();
    }

    private static Map<String, String> run(Path tmpdir, String... args) throws Exception {
        ChildJvm.Result r = ChildJvm.run(CudaNativesMain.class, List.of("-Djava.io.tmpdir=" + tmpdir,
                "-D" + CublasLocator.PROPERTY + "=" + fakeCublas), List.of(), args);
        assertEquals(0, r.exit(), r.output());
        Map<String, String> out = r.values();
        out.put("output", r.output());
        try (Stream<Path> left = Files.list(tmpdir)) {
            out.put("left", left.map(p -> p.getFileName().toString()).sorted().toList().toString());
        }
        return out;
    }

    @Test
    void theProbeAndCublasNeverLoadThePlantedLibraries() throws Exception {
        Path tmpdir = tmpdirWithPlants();
        Map<String, String> out = run(tmpdir, "backend", "13000");
        assertEquals(List.of(), PlantedLibrary.loads(marker), out.get("output"));
        assertEquals("null", out.get("cublas_reason"), "cuBLAS loaded through the shim: " + out.get("output"));
        assertTrue(out.get("runtime").matches("\\d+/\\d+"), out.get("output"));
        for (String mapped : out.get("mapped").replaceAll("^\\[|]$", "").split(", ")) {
            assertTrue(mapped.matches(tmpdir + "/backprop-natives-[^/]+/libJCu[^/]+ \\(deleted\\)"),
                    "every JCuda native ran from a private directory that is gone now: " + out.get("mapped"));
        }
        assertTrue(out.get("mapped").contains("libJCublas2-") && out.get("mapped").contains("libJCudaRuntime-"),
                out.get("mapped"));
        assertEquals(JCUDA_FILES.stream().sorted().toList().toString(), out.get("left"), "only the plants are left");
    }

    @Test
    void jcudasOwnLoaderRunsThePlantedLibraries() throws Exception {
        Path tmpdir = tmpdirWithPlants();
        Map<String, String> out = run(tmpdir, "jcuda");
        assertEquals(JCUDA_FILES.stream().map(f -> tmpdir.resolve(f).toString()).toList(),
                PlantedLibrary.loads(marker),
                "without CudaNatives every planted library runs, so the test above would see them: " + out.get("output"));
    }
}
