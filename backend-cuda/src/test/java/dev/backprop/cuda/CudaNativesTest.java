package dev.backprop.cuda;

import dev.backprop.testing.ChildJvm;
import dev.backprop.testing.PlantedLibrary;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.runtime.JCuda;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

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
    @RegisterExtension
    static final PlantedLibrary planted = new PlantedLibrary("backprop-cuda-natives-");
    private static Path fakeCublas;

    @BeforeAll
    static void build() throws Exception {
        Path src = TestTools.moduleDir().resolve("src/test/shim");
        for (String[] lib : new String[][] {{"libcublas.so.13", "fake_cublas13.c"},
            {"libcublasLt.so.13", "fake_cublasLt13.c"}}) {
            TestTools.Result r = TestTools.run(List.of(PlantedLibrary.gcc().toString(), "-shared", "-fPIC",
                    "-Wl,-soname," + lib[0], "-o", planted.work().resolve(lib[0]).toString(),
                    src.resolve(lib[1]).toString()), planted.work(), Map.of(), 120);
            assertEquals(0, r.exit(), r.output());
        }
        fakeCublas = planted.work().resolve("libcublas.so.13");
    }

    private static Map<String, String> run(Path tmpdir, String... args) throws Exception {
        Map<String, String> out = ChildJvm.run(CudaNativesMain.class, List.of("-Djava.io.tmpdir=" + tmpdir,
                "-D" + CublasLocator.PROPERTY + "=" + fakeCublas), List.of(), args).succeeded();
        out.put("left", PlantedLibrary.names(tmpdir));
        return out;
    }

    @Test
    void theProbeAndCublasNeverLoadThePlantedLibraries() throws Exception {
        Path tmpdir = planted.tmpdir("1777", JCUDA_FILES.toArray(new String[0]));
        Map<String, String> out = run(tmpdir, "backend", "13000");
        assertEquals(List.of(), planted.loads(), out.get("output"));
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
        Path tmpdir = planted.tmpdir("1777", JCUDA_FILES.toArray(new String[0]));
        Map<String, String> out = run(tmpdir, "jcuda");
        assertEquals(JCUDA_FILES.stream().map(f -> tmpdir.resolve(f).toString()).toList(),
                planted.loads(),
                "without CudaNatives every planted library runs, so the test above would see them: "
                        + out.get("output"));
    }
}
