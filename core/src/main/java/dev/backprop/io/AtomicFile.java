package dev.backprop.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way Backprop writes a file (model files, checkpoints, plots, ONNX exports, a Spark run's model): to a
 * temporary file beside the target, forced to disk, renamed over the target, then the directory forced, so a crash
 * or kill leaves the old file or the new one, never half of one.
 *
 * <p>The written file has the mode the umask gives a new file, or the mode of the file it replaces. The temporary
 * file is named {@code .<target name>.<pid>.<random>}{@value #TEMP_SUFFIX}: a failed write deletes it, so does a
 * JVM shutdown that interrupts the write (Ctrl-C), and one left by a killed process (its pid no longer running) is
 * deleted by the next write to the same target. A missing directory is not created. Every failure is an
 * {@link IOException} whose message names the target and what is wrong ({@link IoErrors#reason}).
 */
public final class AtomicFile {
    /** The end of every temporary file's name. */
    public static final String TEMP_SUFFIX = ".backprop-tmp";

    /** Characters of the target's name kept in the temporary file's, so that name stays within 255 bytes. */
    private static final int NAME_KEPT = 100;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Temporary files being written, which a JVM shutdown deletes. */
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(AtomicFile::deleteInFlight, "backprop-temp-files"));
        } catch (IllegalStateException e) {
            // Loaded while the JVM shuts down: there is no later shutdown to clean up after.
        }
    }

    /** What goes into the file. */
    @FunctionalInterface
    public interface Content {
        /** Writes the file's bytes to {@code out} (buffered; closing it is not needed). */
        void writeTo(OutputStream out) throws IOException;
    }

    /** What makes a rename durable (the directory's sync, or a test's stand-in). */
    @FunctionalInterface
    interface DirectorySync {
        void sync(Path dir) throws IOException;
    }

    private AtomicFile() {
    }

    /** Writes {@code bytes} to {@code target} atomically (see the class comment). */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /**
     * Writes what {@code content} gives to {@code target} atomically (see the class comment).
     *
     * @throws IOException naming {@code target} when it cannot be written; the target is then unchanged
     */
    public static void write(Path target, Content content) throws IOException {
        write(target, content, AtomicFile::syncDirectory);
    }

    static void write(Path target, Content content, DirectorySync directorySync) throws IOException {
        try {
            checkTarget(target);
        } catch (FileSystemException e) {
            throw failure(target, e);
        }
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = dir.resolve(tempName(abs.getFileName().toString()));
        IN_FLIGHT.add(tmp);
        try {
            deleteStale(dir, abs.getFileName().toString());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            keepMode(abs, tmp);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            directorySync.sync(dir);
        } catch (IOException e) {
            throw failure(target, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // The write's own outcome is what the caller needs; a stale file is removed by the next write.
            }
            IN_FLIGHT.remove(tmp);
        }
    }

    /**
     * Checks, before the work that produces it, that {@code target} can be written by {@link #write}: its directory
     * exists, is a directory and is writable, the target itself is not a directory, and a file can be created
     * there (a temporary one, deleted at once: this finds the read-only mount or special file system that
     * permissions call writable, for root always).
     *
     * @throws FileSystemException naming the target and what is wrong
     */
    public static void checkWritable(Path target) throws FileSystemException {
        checkTarget(target);
        Path abs = target.toAbsolutePath();
        Path probe = abs.getParent().resolve(tempName(abs.getFileName().toString()));
        try {
            Files.newByteChannel(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
            Files.delete(probe);
        } catch (IOException e) {
            throw new FileSystemException(target.toString(), null, "cannot create a file in " + abs.getParent()
                    + ": " + IoErrors.reason(e));
        }
    }

    /** The checks of {@link #checkWritable} that create nothing. */
    private static void checkTarget(Path target) throws FileSystemException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) {
            throw new FileSystemException(target.toString(), null, "not a file name");
        }
        if (Files.isDirectory(abs)) {
            throw new FileSystemException(target.toString(), null, "is a directory; give a file name");
        }
        if (!Files.exists(dir)) {
            throw new FileSystemException(target.toString(), null, "the directory " + dir + " does not exist "
                    + "(it is not created: make it first)");
        }
        if (!Files.isDirectory(dir)) {
            throw new FileSystemException(target.toString(), null, dir + " is not a directory");
        }
        if (!Files.isWritable(dir)) {
            throw new FileSystemException(target.toString(), null, "the directory " + dir + " is not writable");
        }
    }

    /** The exception for a failed write: the target, and what is wrong. */
    private static FileSystemException failure(Path target, IOException e) {
        String other = e instanceof FileSystemException f && f.getFile() != null
                && !Path.of(f.getFile()).toAbsolutePath().equals(target.toAbsolutePath())
                && !f.getFile().endsWith(TEMP_SUFFIX) ? " (" + f.getFile() + ")" : "";
        FileSystemException x = new FileSystemException(target.toString(), null, "cannot write it: "
                + IoErrors.reason(e) + other);
        x.initCause(e);
        return x;
    }

    /** A fresh temporary file name for a target named {@code name}. */
    static String tempName(String name) {
        return "." + kept(name) + "." + ProcessHandle.current().pid() + "."
                + Long.toUnsignedString(RANDOM.nextLong(), 36) + TEMP_SUFFIX;
    }

    private static String kept(String name) {
        return name.length() > NAME_KEPT ? name.substring(0, NAME_KEPT) : name;
    }

    /** Deletes the temporary files for {@code name} in {@code dir} that processes no longer running left behind. */
    private static void deleteStale(Path dir, String name) throws IOException {
        Pattern mine = Pattern.compile("\\." + Pattern.quote(kept(name)) + "\\.(\\d{1,19})\\.[0-9a-z]+"
                + Pattern.quote(TEMP_SUFFIX));
        DirectoryStream.Filter<Path> stale = p -> {
            Matcher m = mine.matcher(p.getFileName().toString());
            return m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()
                    && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
        };
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, stale)) {
            for (Path p : s) {
                Files.deleteIfExists(p);
            }
        } catch (NumberFormatException e) {
            // A pid past a long's range was not written by this class.
        }
    }

    /** Gives {@code tmp} the permissions of the file it will replace (a new file keeps the umask's). */
    private static void keepMode(Path target, Path tmp) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
        if (view != null && Files.isRegularFile(target)) {
            view.setPermissions(Files.getPosixFilePermissions(target));
        }
    }

    /** Forces the directory entry of the rename to disk, where the platform can open a directory. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Windows and some file systems cannot open or sync a directory; the rename is then as durable as the
            // platform makes it, and the file's own bytes were forced before it.
        }
    }

    private static void deleteInFlight() {
        for (Path p : IN_FLIGHT) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // Shutting down: nothing better to do with a file that cannot be deleted.
            }
        }
    }
}
