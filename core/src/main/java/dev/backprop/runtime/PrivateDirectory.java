package dev.backprop.runtime;

import com.sun.security.auth.module.UnixSystem;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A directory that only this process's user can change, created fresh in a base directory, for
 * {@link NativeLoader}. On POSIX systems the base directory and every directory above it must belong to this user
 * or to root and must not let another user rename or replace entries (not writable by group or others, or sticky
 * like {@code /tmp}): otherwise another user could swap the new directory for one of theirs between its creation
 * and the load. Without POSIX attributes (Windows, whose temporary directory is per user) nothing is checked.
 */
final class PrivateDirectory {
    static final String PREFIX = "backprop-natives-";
    private static final int ROOT = 0;
    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final int STICKY = 01000;
    private static final int TYPE_MASK = 0170000;
    private static final int DIRECTORY = 0040000;
    private static final int OWNER_ONLY_DIRECTORY = 0700;
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("unix");

    private PrivateDirectory() {
    }

    /**
     * Creates a fresh directory with mode 0700 in {@code base} and returns its absolute real path.
     *
     * @throws IOException with the reason when {@code base} is missing or unsafe, or creation fails
     */
    static Path create(Path base) throws IOException {
        Path real;
        try {
            real = base.toAbsolutePath().toRealPath();
        } catch (NoSuchFileException e) {
            throw new IOException("it does not exist", e);
        }
        if (!POSIX) {
            return Files.createTempDirectory(real, PREFIX).toRealPath();
        }
        int me = currentUser();
        String unsafe = unsafeAncestor(real, me);
        if (unsafe != null) {
            throw new IOException(unsafe);
        }
        Path dir = Files.createTempDirectory(real, PREFIX, ownerOnly("rwx------"));
        Map<String, Object> a = Files.readAttributes(dir, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        if ((mode & TYPE_MASK) != DIRECTORY || (Integer) a.get("uid") != me
                || (mode & 07777) != OWNER_ONLY_DIRECTORY) {
            throw new IOException("the new directory " + dir + " is not a directory of uid " + me + " with mode 0700 "
                    + "(uid " + a.get("uid") + ", mode " + Integer.toOctalString(mode)
                    + "; is the umask 077 or less?)");
        }
        return dir;
    }

    /** The first of {@code dir} and its parents that another user could change, with why; null when none. */
    static String unsafeAncestor(Path dir, int me) throws IOException {
        for (Path p = dir; p != null; p = p.getParent()) {
            Map<String, Object> a = Files.readAttributes(p, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
            String problem = problem((Integer) a.get("uid"), (Integer) a.get("mode"), me);
            if (problem != null) {
                return p + " " + problem;
            }
        }
        return null;
    }

    /**
     * The first entry of a library search path ({@code java.library.path}, where {@code System.loadLibrary}
     * looks) in which another user could put a file, with why; null when none. An empty entry is the current
     * directory, as for the JDK; for an entry that does not exist, its nearest existing parent is judged, since
     * another user who can write there can create the entry. Unlike for {@link #create}, a sticky directory does not
     * help: the danger is a file created first, not one replaced.
     */
    static String unsafeSearchPathEntry(String searchPath) throws IOException {
        if (!POSIX || searchPath == null || searchPath.isEmpty()) {
            return null;
        }
        int me = currentUser();
        for (String entry : searchPath.split(File.pathSeparator, -1)) {
            Path dir = Path.of(entry.isEmpty() ? "." : entry).toAbsolutePath();
            while (dir != null && !Files.exists(dir)) {
                dir = dir.getParent();
            }
            if (dir == null) {
                continue;
            }
            Path real = dir.toRealPath();
            Map<String, Object> a = Files.readAttributes(real, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
            int owner = (Integer) a.get("uid");
            int mode = (Integer) a.get("mode");
            String problem = owner != ROOT && owner != me ? problem(owner, mode, me)
                    : (mode & GROUP_OR_OTHER_WRITE) != 0 ? "is writable by other users (mode "
                    + Integer.toOctalString(mode & 07777) + ")" : null;
            String where = "'" + entry + "' (" + real + ")";
            if (problem != null) {
                return where + " " + problem;
            }
            String parent = real.getParent() == null ? null : unsafeAncestor(real.getParent(), me);
            if (parent != null) {
                return where + ": " + parent;
            }
        }
        return null;
    }

    /** Why a directory of {@code owner} and {@code mode} lets a user other than {@code me} change it; null if not. */
    static String problem(int owner, int mode, int me) {
        if (owner != ROOT && owner != me) {
            return "belongs to another user (uid " + owner + ", this process runs as uid " + me + ")";
        }
        if ((mode & GROUP_OR_OTHER_WRITE) != 0 && (mode & STICKY) == 0) {
            return "is writable by other users and not sticky (mode " + Integer.toOctalString(mode & 07777) + ")";
        }
        return null;
    }

    /**
     * A new file {@code name} in {@code dir}, created exclusively (never through a link), readable by its owner only.
     */
    static OutputStream newFile(Path dir, String name) throws IOException {
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        Path file = dir.resolve(name);
        return Channels.newOutputStream(POSIX ? Files.newByteChannel(file, options, ownerOnly("rw-------"))
                : Files.newByteChannel(file, options));
    }

    /**
     * Deletes {@code files}, then {@code dir}. A loaded library stays mapped after its file is gone on Linux and
     * macOS; where the file system refuses (Windows, a library in use), it is left for the JVM's exit.
     */
    static void delete(Path dir, List<Path> files) {
        List<Path> left = new ArrayList<>();
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                left.add(f);
            }
        }
        try {
            Files.deleteIfExists(dir);
            return;
        } catch (DirectoryNotEmptyException e) {
            // a file that is not ours: another thread read java.io.tmpdir while it named this directory
        } catch (IOException e) {
            // left for the JVM's exit
        }
        dir.toFile().deleteOnExit(); // registered first: deleteOnExit runs in reverse order, the files go first
        left.forEach(f -> f.toFile().deleteOnExit());
    }

    private static int currentUser() throws IOException {
        try {
            return (int) new UnixSystem().getUid(); // as the int of the unix:uid attribute
        } catch (LinkageError e) {
            throw new IOException("this process's user id is unknown (the JDK module jdk.security.auth is missing)", e);
        }
    }

    private static FileAttribute<?> ownerOnly(String permissions) {
        return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions));
    }
}
