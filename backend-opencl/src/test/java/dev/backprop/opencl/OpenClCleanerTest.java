package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Backends that are created and dropped without {@code close()} do not accumulate native memory: each one holds a
 * context, its programs and a 64 MiB buffer that was written (so the device memory is really resident), and the
 * skeleton's cleaner frees them once the backend is unreachable. Without it, 20 of them keep over 1.3 GB.
 */
class OpenClCleanerTest {
    private static final int BACKENDS = 20;
    private static final int FLOATS = 16 << 20;

    @Test
    void unclosedBackendsAreFreedWhenUnreachable() throws Exception {
        OpenClTestSupport.requireOpenCl();
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "resident memory is read from /proc");
        abandon(); // the first backend initializes the platform (lasting memory that is not a leak)
        settle(0);
        long before = residentBytes();
        for (int i = 0; i < BACKENDS; i++) {
            abandon();
            if (i % 5 == 4) {
                settle(20);
            }
        }
        settle(200);
        long grown = residentBytes() - before;
        assertTrue(grown < 512L << 20, BACKENDS + " unclosed backends with a resident 64 MiB buffer each grew the "
                + "process by " + (grown >> 20) + " MiB; the cleaner should have freed them");
    }

    /** A backend with a written 64 MiB buffer, unreachable once this returns. */
    private static void abandon() {
        Backend be = OpenClTestSupport.create();
        Buffer b = be.allocate(DType.FLOAT32, FLOATS);
        be.fill(b, 0, FLOATS, 1.0);
        be.synchronize();
    }

    /** Collects garbage and gives the cleaner time to run. */
    private static void settle(int millis) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            TimeUnit.MILLISECONDS.sleep(millis / 3 + 1);
        }
    }

    /** VmRSS of this process. */
    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS line in /proc/self/status");
    }
}
