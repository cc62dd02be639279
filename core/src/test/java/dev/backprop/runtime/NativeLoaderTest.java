package dev.backprop.runtime;

import dev.backprop.testing.ChildJvm;
import dev.backprop.testing.PlantedLibrary;
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
 * {@link NativeLoader} with a binding that loads itself as JOCL and JCuda do ({@link FakeBinding}) and real
 * libraries built with gcc, in child JVMs whose {@code java.io.tmpdir} holds a library planted at the binding's
 * fixed path: through the loader the planted file never runs, the binding's own loading runs it.
 */
class NativeLoaderTest {
    private static final String PLANTED = "lib" + FakeBinding.NAME + ".so";
    private static Path work;
    private static Path classes;
    private static Path marker;
    private static Path gcc;

    @BeforeAll
    static void build() throws Exception {
        gcc = PlantedLibrary.gcc();
        work = Files.createTempDirectory("backprop-native-loader-");
        marker = work.resolve("loads.txt");
        classes = work.resolve("classes");
        Path lib = Files.createDirectories(classes.resolve("lib"));
        PlantedLibrary.compile(gcc, lib.resolve(PLANTED), marker);
        PlantedLibrary.compile(gcc, lib.resolve("libbackprop_fake_dep.so"), marker);
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

    /** A fresh java.io.tmpdir of {@code mode} (octal, as chmod takes it) holding the planted library. */
    private static Path tmpdirWithPlant(String mode) throws Exception {
        Path dir = Files.createTempDirectory(work, "tmp-");
        PlantedLibrary.compile(gcc, dir.resolve(PLANTED), marker);
        Process chmod = new ProcessBuilder("chmod", mode, dir.toString()).inheritIO().start();
        assertEquals(0, chmod.waitFor(), "chmod " + mode);
        return dir.toRealPath();
    }

    private static Map<String, String> run(Path tmpdir, String... args) throws Exception {
        ChildJvm.Result r = ChildJvm.run(NativeLoaderMain.class, List.of("-Djava.io.tmpdir=" + tmpdir),
                List.of(classes), args);
        assertEquals(0, r.exit(), r.output());
        Map<String, String> out = r.values();
        out.put("output", r.output());
        assertEquals(tmpdir.toString(), out.get("tmpdir"), "java.io.tmpdir is restored: " + r.output());
        assertEquals("[" + PLANTED + "]", out.get("left"), "only the planted file is left: " + r.output());
        return out;
    }

    @Test
    void loadsFromAPrivateDirectoryAndNeverThePlantedFile() throws Exception {
        Path tmpdir = tmpdirWithPlant("1777"); // world-writable and sticky, as /tmp
        Map<String, String> out = run(tmpdir, "private", "/lib/libbackprop_fake_dep.so");
        assertEquals(null, out.get("error"), out.get("output"));
        List<String> loads = PlantedLibrary.loads(marker);
        assertEquals(2, loads.size(), "the dependency, then the binding's library: " + loads);
        Path dir = Path.of(loads.get(0)).getParent();
        assertEquals(tmpdir, dir.getParent(), loads.toString());
        assertTrue(dir.getFileName().toString().startsWith(PrivateDirectory.PREFIX), loads.toString());
        assertEquals(List.of(dir.resolve("libbackprop_fake_dep.so").toString(), dir.resolve(PLANTED).toString()),
                loads);
    }

    @Test
    void theBindingsOwnLoadingRunsThePlantedFile() throws Exception {
        Path tmpdir = tmpdirWithPlant("1777");
        Map<String, String> out = run(tmpdir, "own");
        assertEquals(null, out.get("error"), out.get("output"));
        assertEquals(List.of(tmpdir.resolve(PLANTED).toString()), PlantedLibrary.loads(marker),
                "without NativeLoader the planted library runs: the other tests would see it");
    }

    @Test
    void aTmpdirOthersCanRenameInIsRefusedAndNothingLoads() throws Exception {
        Path tmpdir = tmpdirWithPlant("0777");
        Map<String, String> out = run(tmpdir, "private", "/lib/libbackprop_fake_dep.so");
        assertEquals("LoadError: no private directory for " + PLANTED + " in java.io.tmpdir (" + tmpdir + "): "
                + tmpdir + " is writable by other users and not sticky (mode 777); set java.io.tmpdir "
                + "(-Djava.io.tmpdir=...) to a directory that only this user can write", out.get("error"));
        assertEquals(List.of(), PlantedLibrary.loads(marker));
    }

    @Test
    void aMissingResourceIsNamedAndNothingLoads() throws Exception {
        Path tmpdir = tmpdirWithPlant("1777");
        Map<String, String> out = run(tmpdir, "private", "/lib/libbackprop_missing.so");
        assertTrue(out.get("error").startsWith("LoadError: libbackprop_missing.so is not on the class path (resource "
                + "/lib/libbackprop_missing.so): no build of it for "), out.get("output"));
        assertEquals(List.of(), PlantedLibrary.loads(marker));
    }
}
