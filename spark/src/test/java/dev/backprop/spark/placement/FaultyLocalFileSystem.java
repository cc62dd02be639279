package dev.backprop.spark.placement;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The local Hadoop file system with faults a test plants: a rename that fails or waits, writes that fail, a file
 * that cannot be opened. Registered as {@code fs.file.impl} (uncached) in the tests' Hadoop settings.
 */
public class FaultyLocalFileSystem extends RawLocalFileSystem {
    /** Runs before a rename. */
    @FunctionalInterface
    interface RenameHook {
        void before(Path src, Path dst) throws IOException;
    }

    static volatile RenameHook beforeRename;
    static volatile boolean failWrites;
    static volatile String failOpen;

    static void reset() {
        beforeRename = null;
        failWrites = false;
        failOpen = null;
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        RenameHook hook = beforeRename;
        if (hook != null) {
            hook.before(src, dst);
        }
        return super.rename(src, dst);
    }

    @Override
    protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission)
            throws IOException {
        OutputStream out = super.createOutputStreamWithMode(f, append, permission);
        if (!failWrites) {
            return out;
        }
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("No space left on device (planted)");
            }

            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device (planted)");
            }
        };
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        if (f.getName().equals(failOpen)) {
            throw new IOException("Input/output error (planted)");
        }
        return super.open(f, bufferSize);
    }
}
