package dev.backprop.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed libcublas.so.12 shim, without a GPU: built from the committed sources, exporting exactly the
 * symbols the JCublas2 native imports under the {@code libcublas.so.12} version, needing only old glibc, and
 * forwarding to a fake cuBLAS 13 built here (arguments intact, NOT_SUPPORTED for missing functions, safe when
 * threads race on the first call). Needs gcc and binutils: CI installs them, and fails without them; elsewhere the
 * class is skipped without them.
 */
class CublasShimTest {
    private static final Path MODULE = TestTools.moduleDir();
    private static Path work;
    private static Path shimDir;
    private static Path fakeDir;
    private static Path harness;

    @BeforeAll
    static void build() throws Exception {
        String untested = "the cuBLAS shim is not exercised on this machine";
        Path gcc = TestTools.require("gcc", untested, "/usr/bin/gcc");
        TestTools.require("readelf", untested);
        TestTools.require("nm", untested);
        work = Files.createTempDirectory("backprop-shim-");
        shimDir = Files.createDirectories(work.resolve("shim"));
        fakeDir = Files.createDirectories(work.resolve("fake"));
        try (InputStream in = CublasShimTest.class.getResourceAsStream(CublasShim.RESOURCE)) {
            Files.copy(in, shimDir.resolve("libcublas.so.12"));
        }
        Path src = MODULE.resolve("src/test/shim");
        gccOk(gcc, "-shared", "-fPIC", "-Wl,-soname,libcublas.so.13", "-o", fakeDir.resolve("libcublas.so.13"),
                src.resolve("fake_cublas13.c"));
        gccOk(gcc, "-shared", "-fPIC", "-Wl,-soname,libcublasLt.so.13", "-o", fakeDir.resolve("libcublasLt.so.13"),
                src.resolve("fake_cublasLt13.c"));
        harness = work.resolve("harness");
        gccOk(gcc, "-o", harness, src.resolve("shim_harness.c"), "-L" + shimDir, "-l:libcublas.so.12", "-pthread");
    }

    private static void gccOk(Path gcc, Object... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(gcc.toString()));
        for (Object a : args) {
            cmd.add(a.toString());
        }
        TestTools.Result r = TestTools.run(cmd, work, Map.of(), 120);
        assertEquals(0, r.exit(), String.join(" ", cmd) + "\n" + r.output());
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

    private static String sh(String... cmd) throws Exception {
        TestTools.Result r = TestTools.run(List.of(cmd), work, Map.of(), 60);
        assertEquals(0, r.exit(), String.join(" ", cmd) + "\n" + r.output());
        return r.output();
    }

    @Test
    void builtFromTheCommittedSources() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (String f : new String[] {"src/main/shim/cublas12.symbols", "src/main/shim/cublas_shim.c",
            "scripts/build-shim.sh"}) {
            sha.update(Files.readAllBytes(MODULE.resolve(f)));
        }
        String tag = "backprop-shim-source-sha256=" + HexFormat.of().formatHex(sha.digest());
        String binary = new String(Files.readAllBytes(shimDir.resolve("libcublas.so.12")), StandardCharsets.ISO_8859_1);
        assertTrue(binary.contains(tag), "the committed shim was built from other sources than src/main/shim holds "
                + "now: run backend-cuda/scripts/build-shim.sh and commit the library");
    }

    @Test
    void exportsExactlyWhatJcublas2ImportsUnderTheCublas12Version() throws Exception {
        Path jcublas2 = work.resolve("libJCublas2.so");
        try (InputStream in = CublasShimTest.class.getResourceAsStream("/lib/libJCublas2-12.6.0-linux-x86_64.so")) {
            if (in == null) {
                TestTools.unavailable("jcublas-natives linux-x86_64 is not on the test class path");
            }
            Files.copy(in, jcublas2);
        }
        Set<String> imported = new TreeSet<>();
        for (String line : sh("nm", "-D", "--undefined-only", jcublas2.toString()).split("\n")) {
            if (line.trim().endsWith("@libcublas.so.12")) {
                String sym = line.trim().split("\\s+")[1];
                imported.add(sym.substring(0, sym.indexOf('@')));
            }
        }
        Set<String> listed = new TreeSet<>(Files.readAllLines(MODULE.resolve("src/main/shim/cublas12.symbols")));
        assertEquals(imported, listed, "cublas12.symbols differs from the JCublas2 imports: run "
                + "scripts/extract-cublas-symbols.sh, then build-shim.sh");
        Set<String> exported = new TreeSet<>();
        Pattern defined = Pattern.compile("^\\s*\\d+: [0-9a-f]+\\s+\\d+ FUNC\\s+GLOBAL\\s+DEFAULT\\s+\\d+ "
                + "(\\w+)@@libcublas\\.so\\.12$");
        String symbols = sh("readelf", "--dyn-syms", "-W", shimDir.resolve("libcublas.so.12").toString());
        for (String line : symbols.split("\n")) {
            Matcher m = defined.matcher(line);
            if (m.find()) {
                exported.add(m.group(1));
            }
        }
        assertEquals(listed, exported, "the shim's exported functions (version libcublas.so.12)");
        assertTrue(imported.size() > 400, "JCublas2 12.6 imports about 494 cuBLAS functions, found " + imported.size());
    }

    @Test
    void hasTheSonameAndNeedsOnlyOldGlibc() throws Exception {
        String dynamic = sh("readelf", "-d", "-W", shimDir.resolve("libcublas.so.12").toString());
        assertTrue(dynamic.contains("Library soname: [libcublas.so.12]"), dynamic);
        String versions = sh("readelf", "-V", "-W", shimDir.resolve("libcublas.so.12").toString());
        Matcher m = Pattern.compile("Name: (GLIBC_[0-9.]+)").matcher(versions);
        List<String> needed = new ArrayList<>();
        while (m.find()) {
            needed.add(m.group(1));
        }
        assertTrue(!needed.isEmpty(), "expected glibc version needs:\n" + versions);
        for (String v : needed) {
            assertEquals("GLIBC_2.2.5", v, "the shim must need nothing newer than glibc 2.2.5 (x86-64's base)");
        }
    }

    private static Map<String, String> run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(harness.toString()));
        cmd.addAll(List.of(args));
        TestTools.Result r = TestTools.run(cmd, work, env, 60);
        assertEquals(0, r.exit(), r.output());
        Map<String, String> out = new java.util.HashMap<>();
        for (String line : r.output().split("\n")) {
            for (String pair : line.split(" ")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            if (line.startsWith("status_string=")) {
                out.put("status_string", line.substring("status_string=".length()));
            }
        }
        out.put("output", r.output());
        return out;
    }

    private static void assertForwarded(Map<String, String> out) {
        assertEquals("0", out.get("create"), out.get("output"));
        assertEquals("0x5eed", out.get("handle"), "the fake's handle came back through the shim");
        assertEquals("130201", out.get("version"), out.get("output"));
        assertEquals("13", out.get("major"), out.get("output"));
        assertEquals("213", out.get("sgemm"), "all 14 arguments (8 on the stack) arrive intact");
        assertEquals("2309", out.get("c"), "pointer arguments arrive intact");
        assertEquals("15", out.get("destroy"), "a function missing from libcublas.so.13 returns NOT_SUPPORTED (15)");
        assertEquals("0", out.get("cudart"), "the size_t stand-in returns 0");
        assertTrue(out.get("status_string").contains("CUBLAS_STATUS_NOT_SUPPORTED"), out.get("output"));
    }

    @Test
    void forwardsToTheLibraryNamedByTheEnvironment() throws Exception {
        assertForwarded(run(Map.of("LD_LIBRARY_PATH", shimDir.toString(),
                "BACKPROP_CUBLAS_LIBRARY", fakeDir.resolve("libcublas.so.13").toString())));
    }

    @Test
    void forwardsToLibcublas13FoundByName() throws Exception {
        assertForwarded(run(Map.of("LD_LIBRARY_PATH", shimDir + ":" + fakeDir)));
    }

    @Test
    void withoutCublas13EveryCallReturnsNotSupportedAndSaysWhy() throws Exception {
        // Named explicitly: searched by name, a cuBLAS 13 in the ld.so cache (a CUDA 13 host) would be found.
        Path missing = work.resolve("no-such-dir/libcublas.so.13");
        Map<String, String> out = run(Map.of("LD_LIBRARY_PATH", shimDir.toString(),
                "BACKPROP_CUBLAS_LIBRARY", missing.toString()));
        assertEquals("15", out.get("create"), out.get("output"));
        assertEquals("15", out.get("version_status"), out.get("output"));
        assertEquals("15", out.get("sgemm"), out.get("output"));
        assertTrue(out.get("output").contains("backprop libcublas.so.12 shim: cannot load cuBLAS 13: " + missing),
                out.get("output"));
    }

    @Test
    void threadsRacingThroughTheFirstCallAllGetTheFunction() throws Exception {
        for (int i = 0; i < 5; i++) {
            Map<String, String> out = run(Map.of("LD_LIBRARY_PATH", shimDir + ":" + fakeDir), "threads");
            assertEquals("130201", out.get("threads_version"), out.get("output"));
            assertEquals("1", out.get("same"), out.get("output"));
        }
    }
}
