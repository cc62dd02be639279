package dev.backprop.hostile;

import java.nio.file.Path;

/**
 * One hostile input: the reader it is for, what was done to the valid file, the bytes, and how the reader is
 * called on them (every case here must be refused).
 */
record HostileCase(String reader, String name, byte[] bytes, Call call) {
    /** Calls a reader on a file holding the case's bytes. */
    interface Call {
        void read(Path file) throws Exception;
    }

    /** A first refusal of two calls must be clean too: one that is not is rethrown as a failure of the reader. */
    static void checkOneLine(Exception e) {
        if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
            throw new IllegalStateException("not a one-line message", e);
        }
    }
}
