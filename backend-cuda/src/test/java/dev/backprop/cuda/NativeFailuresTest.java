package dev.backprop.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reasons derived from the errors JCuda throws (messages as JCuda 12.6.0 produces them on JDK 17 and 25). */
class NativeFailuresTest {
    private static final String FIRST_TOUCH = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
            + "Operating system name: Linux\n---(start of nested stack traces)---\n"
            + "Stack trace from the attempt to load the library as a file:\n"
            + "java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib\n"
            + "Stack trace from the attempt to load the library as a resource:\n"
            + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot "
            + "open shared object file: No such file or directory\n---(end of nested stack traces)---\n";

    @Test
    void firstTouchWithoutDriverNamesLibcuda() {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError(FIRST_TOUCH);
        assertEquals("libcuda.so.1", NativeFailures.missingLibrary(e));
        assertTrue(NativeFailures.driver(e).startsWith("no NVIDIA driver: libcuda.so.1 cannot be loaded"));
    }

    @Test
    void secondTouchCarriesTheFirstErrorOnlyAsTextInItsCause() {
        NoClassDefFoundError e = new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver");
        e.initCause(new ExceptionInInitializerError("Exception java.lang.UnsatisfiedLinkError: " + FIRST_TOUCH
                + " [in thread \"main\"]"));
        assertTrue(NativeFailures.driver(e).startsWith("no NVIDIA driver: libcuda.so.1"), NativeFailures.driver(e));
    }

    @Test
    void otherNativeProblemsAreNotMistakenForAMissingDriver() {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: "
                + "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.99' not found");
        assertNull(NativeFailures.missingLibrary(e));
        String reason = NativeFailures.driver(e);
        assertTrue(reason.startsWith("the JCuda natives failed to load (symbol version 'GLIBC_2.99' not found"),
                reason);
    }

    @Test
    void cublasReasonsNameTheMissingLibraryOrSymbol() {
        UnsatisfiedLinkError missing = new UnsatisfiedLinkError("/tmp/libJCublas2-12.6.0-linux-x86_64.so: "
                + "libcublas.so.12: cannot open shared object file: No such file or directory");
        assertEquals("cuBLAS could not be loaded (libcublas.so.12 cannot be opened) using X",
                NativeFailures.cublas(missing, "X"));
        UnsatisfiedLinkError symbol = new UnsatisfiedLinkError("/tmp/libJCublas2.so: undefined symbol: cublasLtCreate");
        assertTrue(NativeFailures.summary(symbol).contains("undefined symbol cublasLtCreate"));
        UnsatisfiedLinkError version = new UnsatisfiedLinkError("/tmp/libJCublas2.so: /x/libcublas.so.12: "
                + "version `libcublas.so.12' not found (required by /tmp/libJCublas2.so)");
        assertTrue(NativeFailures.summary(version).contains("symbol version 'libcublas.so.12' not found"));
    }

    @Test
    void unknownErrorsKeepTheirFirstLineShort() {
        String summary = NativeFailures.summary(new IllegalStateException("x".repeat(500) + "\nsecond line"));
        assertTrue(summary.length() < 260 && summary.endsWith("..."), summary);
    }
}
