package dev.backprop.runtime;

import dev.backprop.io.IoErrors;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Loads the native libraries that JNI bindings (JOCL, JCuda, JCublas2) and the backends carry in their jars only
 * from a directory this process created with owner-only permissions, never from a fixed path in a shared one.
 *
 * <p>The bindings' own loaders first try {@code System.loadLibrary} (the user's {@code java.library.path}), then
 * look for a file of a fixed name in {@code java.io.tmpdir} ({@code /tmp/libJOCL_2_0_6-linux-x86_64.so}), write it
 * only when it is missing and load whatever is there: on a shared host whoever creates that file first runs code in
 * every later process. Loading the right file beforehand with {@code System.load} does not stop that, since the
 * binding's loader then loads its own path as well, a different file.
 *
 * <p>So {@link #initialize} first refuses a {@code java.library.path} entry that another user can write in (the
 * bindings' loaders look there first), then creates a fresh directory with mode 0700 ({@link PrivateDirectory} refuses
 * a {@code java.io.tmpdir} that another user could rename entries in), copies each library there from its resource
 * (created exclusively, never through a link, then checked against the resource's SHA-256), loads the
 * dependencies with {@code System.load} by absolute path, and initializes the binding's class while
 * {@code java.io.tmpdir} names that directory: the binding's loader finds its file already there and loads it by
 * that absolute path, from the binding's own class loader as JNI requires. The files and the directory are
 * deleted as soon as the libraries are loaded (a loaded library stays mapped), so nothing is left behind even
 * when the process is killed. Loads are serialized; while a binding initializes, other threads that read the
 * {@code java.io.tmpdir} property see the private directory (the JDK's temporary-file methods keep a copy).
 */
public final class NativeLoader {
    private static final String TMPDIR = "java.io.tmpdir";
    /**
     * Bindings whose class initialization was started here, with java.io.tmpdir redirected: initializing one again
     * is a no-op or replays the first failure, and loads nothing.
     */
    private static final Set<Class<?>> ATTEMPTED = new HashSet<>();

    private NativeLoader() {
    }

    /**
     * A shared library bundled as a class-path resource.
     *
     * @param owner a class whose class loader finds the resource
     * @param path  the absolute resource path, e.g. {@code /lib/libJOCL_2_0_6-linux-x86_64.so}; its last segment
     *              is the name the file gets on disk, which must be the name the binding looks for
     */
    public record Resource(Class<?> owner, String path) {
        /**
         * Checks the path.
         *
         * @param owner a class whose class loader finds the resource
         * @param path  the absolute resource path
         * @throws IllegalArgumentException when {@code path} is not absolute or names no file
         */
        public Resource {
            if (!path.startsWith("/") || path.endsWith("/")) {
                throw new IllegalArgumentException("a native library resource path must be absolute and name a file: "
                        + path);
            }
        }

        /** {@return the file name: the last segment of {@link #path}} */
        public String fileName() {
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    /** A bundled native library that was not loaded because it could not be loaded safely; the message says why. */
    public static final class LoadError extends UnsatisfiedLinkError {
        private static final long serialVersionUID = 1L;

        LoadError(String message, Throwable cause) {
            super(message);
            initCause(cause);
        }
    }

    /**
     * Initializes {@code binding}, a class whose static initializer loads {@code library} the way JOCL's and
     * JCuda's {@code LibUtils} do, from a private directory as described above; once per binding and JVM (later
     * calls only initialize the class, which is then a no-op or replays the first failure).
     *
     * @param binding      the binding class, not yet initialized (a class literal does not initialize it)
     * @param library      the binding's own native library, under the file name its loader looks for
     * @param dependencies plain shared libraries that {@code library} links against, loaded first, in this order
     * @throws LoadError           when a {@code java.library.path} entry is writable by another user, no private
     *                             directory can be made in {@code java.io.tmpdir}, a resource is missing, or a
     *                             copy cannot be written or differs from its resource
     * @throws UnsatisfiedLinkError when a dependency or the binding's own loading fails (as the binding reports it)
     */
    public static synchronized void initialize(Class<?> binding, Resource library, Resource... dependencies) {
        if (ATTEMPTED.contains(binding)) {
            initializeClass(binding);
            return;
        }
        refuseUnsafeLibraryPath(library);
        String base = System.getProperty(TMPDIR);
        Path dir;
        try {
            if (base == null || base.isBlank()) {
                throw new IOException("the property is not set");
            }
            dir = PrivateDirectory.create(Path.of(base));
        } catch (IOException | RuntimeException e) {
            throw new LoadError("no private directory for " + library.fileName() + " in java.io.tmpdir (" + base
                    + "): " + e.getMessage() + "; set java.io.tmpdir (-Djava.io.tmpdir=...) to a directory that only "
                    + "this user can write", e);
        }
        List<Path> files = new ArrayList<>();
        try {
            for (Resource r : dependencies) {
                files.add(extract(r, dir));
            }
            files.add(extract(library, dir));
            for (Path dependency : files.subList(0, dependencies.length)) {
                System.load(dependency.toString());
            }
            initializeWithTmpdir(binding, dir);
        } finally {
            PrivateDirectory.delete(dir, files);
        }
    }

    /**
     * The bindings' loaders try {@code System.loadLibrary} before anything else, so a file of the library's name in
     * a {@code java.library.path} entry that another user can write would be loaded first.
     */
    private static void refuseUnsafeLibraryPath(Resource library) {
        String unsafe;
        try {
            unsafe = PrivateDirectory.unsafeSearchPathEntry(System.getProperty("java.library.path"));
        } catch (IOException e) {
            unsafe = "an entry that cannot be checked (" + e + ")";
        }
        if (unsafe != null) {
            throw new LoadError(library.fileName() + " is looked for in java.library.path first, and its entry "
                    + unsafe + "; remove that entry (an empty element of LD_LIBRARY_PATH adds the current directory)",
                    null);
        }
    }

    /** Copies {@code r} into {@code dir}, then checks that the file holds exactly the resource's bytes. */
    private static Path extract(Resource r, Path dir) {
        Path file = dir.resolve(r.fileName());
        MessageDigest sha = sha256();
        long size;
        try (InputStream in = r.owner().getResourceAsStream(r.path())) {
            if (in == null) {
                throw new LoadError(r.fileName() + " is not on the class path (resource " + r.path() + "): no build of "
                        + "it for " + System.getProperty("os.name").toLowerCase(Locale.ROOT) + " on "
                        + System.getProperty("os.arch"), null);
            }
            try (OutputStream out = new DigestOutputStream(PrivateDirectory.newFile(dir, r.fileName()), sha)) {
                size = in.transferTo(out);
            }
        } catch (IOException e) {
            throw new LoadError("cannot copy " + r.path() + " to " + file + ": " + IoErrors.reason(e), e);
        }
        verify(file, sha.digest(), size);
        return file;
    }

    private static void verify(Path file, byte[] expected, long size) {
        MessageDigest sha = sha256();
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile() || a.size() != size) {
                throw new LoadError(file + " is not the regular file of " + size + " bytes just written", null);
            }
            try (InputStream in = new DigestInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), sha)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        } catch (IOException e) {
            throw new LoadError("cannot read back " + file + ": " + IoErrors.reason(e), e);
        }
        if (!MessageDigest.isEqual(expected, sha.digest())) {
            throw new LoadError(file + " differs from the resource it was copied from", null);
        }
    }

    /**
     * Initializes {@code binding} while {@code java.io.tmpdir} names {@code dir}. java.io.File (JDK 17) reads the
     * property once, on its first temporary file: that read is made to happen now, before the change, or another
     * thread's first {@code File.createTempFile} in the window would send all of this JVM's temporary files to a
     * directory about to be deleted.
     */
    private static void initializeWithTmpdir(Class<?> binding, Path dir) {
        try {
            Files.delete(File.createTempFile("backprop-", ".tmp", dir.toFile()).toPath());
        } catch (IOException e) {
            throw new LoadError("cannot write in " + dir + ": " + IoErrors.reason(e), e);
        }
        String saved = System.getProperty(TMPDIR);
        System.setProperty(TMPDIR, dir.toString());
        try {
            ATTEMPTED.add(binding); // only here: a later plain initialization must never be the binding's first
            initializeClass(binding);
        } finally {
            if (saved == null) {
                System.clearProperty(TMPDIR);
            } else {
                System.setProperty(TMPDIR, saved);
            }
        }
    }

    private static void initializeClass(Class<?> binding) {
        try {
            Class.forName(binding.getName(), true, binding.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(binding + " is not found by its own class loader", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
