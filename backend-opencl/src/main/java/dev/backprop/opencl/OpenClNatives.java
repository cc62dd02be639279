package dev.backprop.opencl;

import dev.backprop.opencl.OpenClCheck.OpenClUnavailableException;
import dev.backprop.runtime.NativeLoader;
import org.jocl.CL;
import org.jocl.LibUtils;

import java.util.Map;

/**
 * Keeps native code from shared paths out of the OpenCL backend. JOCL's own loader would load
 * {@code libJOCL_2_0_6-<os>-<arch>.so} from a fixed path in {@code java.io.tmpdir}, whoever put it there:
 * {@link #load} loads it through {@link NativeLoader} instead, before the first use of {@link CL}, whose static
 * initializer loads the library. PoCL loads the kernels it compiled from its cache directory, which can be a
 * fixed shared path too: {@link #checkKernelCache} refuses that.
 */
final class OpenClNatives {
    /** The library's name as {@code CL} builds it: {@code JOCL_} and the JOCL version with underscores. */
    static final String LIBRARY = "JOCL_2_0_6";
    /** PoCL's {@code CL_PLATFORM_NAME}. */
    static final String POCL = "Portable Computing Language";

    private OpenClNatives() {
    }

    /**
     * Loads JOCL's native library once per JVM.
     *
     * @throws UnsatisfiedLinkError as JOCL reports it, or a {@link NativeLoader.LoadError} saying why it was not loaded
     */
    static void load() {
        NativeLoader.initialize(CL.class, resource());
    }

    /** The library in JOCL's jar for this platform, under the name JOCL's loader looks for. */
    static NativeLoader.Resource resource() {
        return new NativeLoader.Resource(CL.class,
                "/lib/" + LibUtils.createLibraryFileName(LibUtils.createPlatformLibraryName(LIBRARY)));
    }

    /**
     * Refuses a PoCL device whose kernel cache would be {@code /tmp/pocl}. PoCL keeps each kernel it compiles as
     * a shared library in its cache and loads it from there when the same source is built again; the cache is
     * {@code POCL_CACHE_DIR}, else {@code $XDG_CACHE_HOME/pocl}, else {@code $HOME/.cache/pocl}, else
     * {@code /tmp/pocl}, a fixed path where another user can plant those libraries first.
     *
     * @param env the process environment
     * @throws OpenClUnavailableException for a PoCL device when {@code env} sets none of the three
     */
    static void checkKernelCache(OpenClDevice device, Map<String, String> env) throws OpenClUnavailableException {
        String xdg = env.get("XDG_CACHE_HOME");
        if (device.platformName().contains(POCL) && env.get("POCL_CACHE_DIR") == null
                && (xdg == null || xdg.isEmpty()) && env.get("HOME") == null) {
            throw new OpenClUnavailableException("PoCL would load the kernels it compiles from /tmp/pocl/kcache, a "
                    + "fixed path where another user can plant them first, because HOME, XDG_CACHE_HOME and "
                    + "POCL_CACHE_DIR are unset; set HOME or POCL_CACHE_DIR to a directory only this user can write");
        }
    }
}
