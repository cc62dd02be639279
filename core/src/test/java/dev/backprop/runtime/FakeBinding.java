package dev.backprop.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;

/**
 * A JNI binding whose static initializer loads its library the way JOCL's and JCuda's {@code LibUtils} do: with
 * {@code System.loadLibrary}, else from a file of a fixed name in {@code java.io.tmpdir}, written from the class
 * path only when missing, then loaded whatever it holds.
 */
final class FakeBinding {
    static final String NAME = "backprop_fake_binding";
    static final String RESOURCE = "/lib/lib" + NAME + ".so";

    static {
        load();
    }

    private FakeBinding() {
    }

    /** Initializes the class (and so loads the library) the binding's own way. */
    static void touch() {
    }

    private static void load() {
        try {
            System.loadLibrary(NAME);
            return;
        } catch (UnsatisfiedLinkError e) {
            // not on java.library.path: extract, as the bindings do
        }
        File file = new File(System.getProperty("java.io.tmpdir") + File.separator + "lib" + NAME + ".so");
        if (!file.exists()) {
            try (InputStream in = FakeBinding.class.getResourceAsStream(RESOURCE)) {
                Files.copy(in, file.toPath());
            } catch (IOException e) {
                throw new UnsatisfiedLinkError("cannot write " + file + ": " + e);
            }
        }
        System.load(file.getPath());
    }
}
