package dev.backprop.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Messages for I/O errors that name the file and say what is wrong: the JDK's own say only one of the two
 * ({@code NoSuchFileException}'s message is the bare path, a failed write's is "No space left on device").
 */
public final class IoErrors {
    private IoErrors() {
    }

    /**
     * One line: the file (and the other file of a move) and what is wrong, e.g. {@code m.safetensors: no such file
     * or directory}; an error that names no file gives its own message.
     */
    public static String message(IOException e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + reason(e);
        }
        return reason(e);
    }

    /** As {@link #message(IOException)}, naming {@code path} when the error itself names no file. */
    public static String message(Path path, IOException e) {
        return e instanceof FileSystemException f && f.getFile() != null ? message(e) : path + ": " + reason(e);
    }

    /**
     * Refuses a path a reader cannot read as a file before it opens it: reading a directory fails with the system's
     * bare "Is a directory", which names no file.
     *
     * @return {@code path}, to open
     * @throws NoSuchFileException  when nothing is there
     * @throws FileSystemException when it is a directory (the message names it)
     */
    public static Path checkFile(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new FileSystemException(path.toString(), null, "is a directory, not a file");
        }
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString());
        }
        return path;
    }

    /**
     * As {@link #checkFile}, and refuses a path that is not a regular file, as a model file must be: opening a named
     * pipe waits for a writer, forever when none comes, and a device has no size to check.
     *
     * @return {@code path}, to open
     * @throws ModelFileException for a pipe, socket or device
     */
    public static Path checkModelFile(Path path) throws IOException {
        if (!Files.isRegularFile(checkFile(path))) {
            throw new ModelFileException(path + ": not a regular file (a pipe, socket or device cannot be a model "
                    + "file)");
        }
        return path;
    }

    /** What is wrong, without the file: the system's reason, or the exception's kind in words. */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "a directory is in the way";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileSystemException) {
            return e.getClass().getSimpleName();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
