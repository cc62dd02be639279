package dev.backprop.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which cuBLAS is chosen from which files, and the reasons when none fits (no library is loaded here). */
class CublasLocatorTest {
    @TempDir
    Path dir;

    private Path touch(String relative) throws Exception {
        Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[] {0x7f, 'E', 'L', 'F'});
        return p;
    }

    @Test
    void majorsComeFromTheFileName() {
        assertEquals(12, CublasLocator.majorOf(Path.of("/x/libcublas.so.12")));
        assertEquals(13, CublasLocator.majorOf(Path.of("libcublas.so.13.1.0.3")));
        assertEquals(-1, CublasLocator.majorOf(Path.of("libcublas.so")));
        assertEquals(-1, CublasLocator.majorOf(Path.of("libcublasLt.so.13")));
    }

    @Test
    void realCublas12WinsOverCublas13() throws Exception {
        touch("a/libcublas.so.13");
        Path twelve = touch("b/libcublas.so.12");
        CublasLocator.Result r = CublasLocator.locate(null, "", List.of(dir.resolve("a"), dir.resolve("b")));
        assertEquals(twelve, r.choice().path());
        assertFalse(r.choice().viaShim());
    }

    @Test
    void cublas13IsUsedThroughTheShim() throws Exception {
        Path thirteen = touch("a/libcublas.so.13");
        touch("a/libcublas.so.13.1.0.3");
        CublasLocator.Result r = CublasLocator.locate(null, "", List.of(dir.resolve("missing"), dir.resolve("a")));
        assertEquals(thirteen, r.choice().path(), "the SONAME-named file is preferred to the full version");
        assertEquals(13, r.choice().major());
        assertTrue(r.choice().viaShim());
        assertTrue(r.choice().describe().contains("shim"), r.choice().describe());
    }

    @Test
    void onlyOtherMajorsGiveTheWrongMajorReason() throws Exception {
        Path eleven = touch("a/libcublas.so.11");
        CublasLocator.Result r = CublasLocator.locate(null, "", List.of(dir.resolve("a")));
        assertNull(r.choice());
        assertTrue(r.reason().startsWith("cuBLAS of the wrong major version: found only [" + eleven + "]"), r.reason());
    }

    @Test
    void nothingFoundSaysWhereItLooked() {
        CublasLocator.Result r = CublasLocator.locate(null, "", List.of(dir.resolve("x"), dir.resolve("y")));
        assertNull(r.choice());
        assertTrue(r.reason().startsWith("no cuBLAS found (looked for libcublas.so.12 and libcublas.so.13 in 2 "
                + "folders (" + dir.resolve("x")), r.reason());
        assertTrue(r.reason().contains("backprop.cuda.cublas"), r.reason());
    }

    @Test
    void anExplicitPathOverridesTheSearch() throws Exception {
        touch("a/libcublas.so.12");
        Path thirteen = touch("b/libcublas.so.13.0.2");
        CublasLocator.Result r = CublasLocator.locate(thirteen.toString(), "system property backprop.cuda.cublas",
                List.of(dir.resolve("a")));
        assertEquals(thirteen, r.choice().path());
        assertTrue(r.choice().viaShim());
        assertEquals("system property backprop.cuda.cublas", r.choice().source());
    }

    @Test
    void anExplicitSymlinkIsJudgedByItsTarget() throws Exception {
        Path target = touch("lib/libcublas.so.13.0.2");
        Path link = Files.createSymbolicLink(dir.resolve("libcublas.so"), target);
        assertEquals(13, CublasLocator.locate(link.toString(), "env", List.of()).choice().major());
    }

    @Test
    void badExplicitPathsAreExplained() throws Exception {
        String missing = CublasLocator.locate(dir.resolve("nope.so").toString(), "env X", List.of()).reason();
        assertTrue(missing.startsWith("env X names ") && missing.endsWith("which is not a file"), missing);
        Path eleven = touch("libcublas.so.11");
        String wrong = CublasLocator.locate(eleven.toString(), "env X", List.of()).reason();
        assertTrue(wrong.contains("which is cuBLAS 11"), wrong);
        Path odd = touch("mycublas.so");
        String unknown = CublasLocator.locate(odd.toString(), "env X", List.of()).reason();
        assertTrue(unknown.contains("not recognisably libcublas.so.<major>"), unknown);
    }

    @Test
    void ldSoCachePathsAreRead() throws Exception {
        ByteArrayOutputStream cache = new ByteArrayOutputStream();
        cache.write("glibc-ld.so.cache1.1\0\0\0".getBytes(StandardCharsets.ISO_8859_1));
        for (String s : new String[] {"libcublas.so.12", "/usr/local/cuda-12.4/lib64/libcublas.so.12", "libm.so.6",
            "/lib/x86_64-linux-gnu/libm.so.6", "/opt/x/libcublas.so.13"}) {
            cache.write((s + "\0").getBytes(StandardCharsets.ISO_8859_1));
        }
        Path file = dir.resolve("ld.so.cache");
        Files.write(file, cache.toByteArray());
        assertEquals(List.of(Path.of("/usr/local/cuda-12.4/lib64/libcublas.so.12"), Path.of("/opt/x/libcublas.so.13")),
                CublasLocator.fromLdCache(file));
        assertEquals(List.of(), CublasLocator.fromLdCache(dir.resolve("absent")));
    }

    @Test
    void theSearchPathIncludesTheDynamicLinkersAndTheToolkitsFolders() {
        List<Path> dirs = CublasSearchPath.directories();
        assertTrue(dirs.contains(Path.of("/usr/local/cuda/lib64")), dirs.toString());
        assertTrue(dirs.contains(Path.of("/usr/lib/x86_64-linux-gnu")), dirs.toString());
        assertEquals(dirs.size(), dirs.stream().distinct().count(), "no folder twice");
    }
}
