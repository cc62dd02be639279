package dev.backprop.runtime;

import dev.backprop.testing.ChildJvm;
import dev.backprop.testing.PlantedLibrary;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NativeLoader} with a binding that loads itself as JOCL and JCuda do ({@link FakeBinding}) and real
 * libraries built with gcc, in child JVMs whose {@code java.io.tmpdir} holds a library planted at the binding's
 * fixed path: through the loader the planted file never runs, the binding's own loading runs it.
 */
class NativeLoaderTest {
    private static final String PLANTED = "lib" + FakeBinding.NAME + ".so";
    @RegisterExtension
    static final PlantedLibrary planted = new PlantedLibrary("backprop-native-loader-");
    private static Path classes;

    @BeforeAll
    static void build() throws Exception {
        classes = planted.work().resolve("classes");
        Path lib = Files.createDirectories(classes.resolve("lib"));
        planted.compile(lib.resolve(PLANTED));
        planted.compile(lib.resolve("libbackprop_fake_dep.so"));
    }

    private static Map<String, String> run(Path tmpdir, String... args) throws Exception {
        return run(List.of("-Djava.io.tmpdir=" + tmpdir), tmpdir, args);
    }

    private static Map<String, String> run(List<String> jvmOptions, Path tmpdir, String... args) throws Exception {
        Map<String, String> out = ChildJvm.run(NativeLoaderMain.class, jvmOptions, List.of(classes), args)
                .succeeded();
        assertEquals(tmpdir.toString(), out.get("tmpdir"), "java.io.tmpdir is restored: " + out.get("output"));
        assertEquals("[" + PLANTED + "]", out.get("left"), "only the planted file is left: " + out.get("output"));
        return out;
    }

    @Test
    void loadsFromAPrivateDirectoryAndNeverThePlantedFile() throws Exception {
        Path tmpdir = planted.tmpdir("1777", PLANTED); // world-writable and sticky, as /tmp
        Map<String, String> out = run(tmpdir, "private", "/lib/libbackprop_fake_dep.so");
        assertEquals(null, out.get("error"), out.get("output"));
        List<String> loads = planted.loads();
        assertEquals(2, loads.size(), "the dependency, then the binding's library, once for two calls: " + loads);
        Path dir = Path.of(loads.get(0)).getParent();
        assertEquals(tmpdir, dir.getParent(), loads.toString());
        assertTrue(dir.getFileName().toString().startsWith(PrivateDirectory.PREFIX), loads.toString());
        assertEquals(List.of(dir.resolve("libbackprop_fake_dep.so").toString(), dir.resolve(PLANTED).toString()),
                loads);
    }

    @Test
    void theBindingsOwnLoadingRunsThePlantedFile() throws Exception {
        Path tmpdir = planted.tmpdir("1777", PLANTED);
        Map<String, String> out = run(tmpdir, "own");
        assertEquals(null, out.get("error"), out.get("output"));
        assertEquals(List.of(tmpdir.resolve(PLANTED).toString()), planted.loads(),
                "without NativeLoader the planted library runs: the other tests would see it");
    }

    @Test
    void aTmpdirOthersCanRenameInIsRefusedAndNothingLoads() throws Exception {
        Path tmpdir = planted.tmpdir("0777", PLANTED);
        Map<String, String> out = run(tmpdir, "private", "/lib/libbackprop_fake_dep.so");
        assertEquals("LoadError: no private directory for " + PLANTED + " in java.io.tmpdir (" + tmpdir + "): "
                + tmpdir + " is writable by other users and not sticky (mode 777); set java.io.tmpdir "
                + "(-Djava.io.tmpdir=...) to a directory that only this user can write", out.get("error"));
        assertEquals(List.of(), planted.loads());
    }

    @Test
    void aMissingResourceIsNamedAndNothingLoads() throws Exception {
        Path tmpdir = planted.tmpdir("1777", PLANTED);
        Map<String, String> out = run(tmpdir, "private", "/lib/libbackprop_missing.so");
        assertTrue(out.get("error").startsWith("LoadError: libbackprop_missing.so is not on the class path (resource "
                + "/lib/libbackprop_missing.so): no build of it for "), out.get("output"));
        assertEquals(List.of(), planted.loads());
    }

    @Test
    void aLibraryPathEntryOthersCanWriteInIsRefusedAndNothingLoads() throws Exception {
        Path tmpdir = planted.tmpdir("1777", PLANTED);
        List<String> options = List.of("-Djava.io.tmpdir=" + tmpdir, "-Djava.library.path=/usr/lib:" + tmpdir);
        Map<String, String> out = run(options, tmpdir, "private", "/lib/libbackprop_fake_dep.so");
        assertEquals("LoadError: " + PLANTED + " is looked for in java.library.path first, and its entry '" + tmpdir
                + "' (" + tmpdir + ") is writable by other users (mode 1777); remove that entry (an empty element of "
                + "LD_LIBRARY_PATH adds the current directory)", out.get("error"));
        assertEquals(List.of(), planted.loads());
        run(options, tmpdir, "own");
        assertEquals(List.of(tmpdir.resolve(PLANTED).toString()), planted.loads(),
                "the binding's own loading takes the planted file from java.library.path");
    }
}
