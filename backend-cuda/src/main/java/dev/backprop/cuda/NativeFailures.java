package dev.backprop.cuda;

import dev.backprop.runtime.NativeLoader;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the errors JCuda throws while loading its natives into reasons a user can act on.
 *
 * <p>JCuda's first touch of a class throws an {@link UnsatisfiedLinkError} whose message nests the dynamic
 * linker's own message ({@code libcuda.so.1: cannot open shared object file}); every later touch throws a
 * {@link NoClassDefFoundError} ("Could not initialize class ...") that carries the first error only as text in
 * its cause. Both are searched, message and causes, for the linker's wording.
 */
final class NativeFailures {
    private static final Pattern MISSING_LIBRARY =
            Pattern.compile("([A-Za-z0-9_.+-]+\\.so(?:\\.[0-9]+)*): cannot open shared object file");
    private static final Pattern MISSING_VERSION = Pattern.compile("version [`']([^'`]+)' not found");
    private static final Pattern MISSING_SYMBOL = Pattern.compile("undefined symbol: ([A-Za-z0-9_]+)");

    private NativeFailures() {
    }

    /** The text of {@code t}, its suppressed errors and its causes, in one string. */
    static String allText(Throwable t) {
        StringBuilder sb = new StringBuilder();
        Set<Throwable> seen = new LinkedHashSet<>();
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            sb.append(c).append('\n');
            for (Throwable s : c.getSuppressed()) {
                sb.append(s).append('\n');
            }
        }
        return sb.toString();
    }

    /** The first shared library the dynamic linker could not open, or null. */
    static String missingLibrary(Throwable t) {
        Matcher m = MISSING_LIBRARY.matcher(allText(t));
        return m.find() ? m.group(1) : null;
    }

    /**
     * Why the JCuda driver binding could not load: no NVIDIA driver when {@code libcuda.so.1} is what the
     * linker missed, otherwise the JCuda native itself.
     */
    static String driver(Throwable t) {
        if (t instanceof NativeLoader.LoadError) {
            return "the JCuda natives were not loaded: " + t.getMessage();
        }
        String missing = missingLibrary(t);
        if ("libcuda.so.1".equals(missing)) {
            return "no NVIDIA driver: libcuda.so.1 cannot be loaded (it is not on the library path); install the "
                    + "NVIDIA driver, or use --backend cpu / opencl";
        }
        return "the JCuda natives failed to load (" + summary(t) + "); the JCuda 12.6.0 jars include "
                + "linux-x86_64 natives only";
    }

    /** Why the JCublas2 native could not load after a cuBLAS library was chosen. */
    static String cublas(Throwable t, String chosen) {
        return "cuBLAS could not be loaded (" + summary(t) + ")" + (chosen == null ? "" : " using " + chosen);
    }

    /** One line naming the linker's complaint (missing library, symbol version or symbol), else the first line. */
    static String summary(Throwable t) {
        if (t instanceof NativeLoader.LoadError) {
            return t.getMessage();
        }
        String text = allText(t);
        String missing = missingLibrary(t);
        if (missing != null) {
            return missing + " cannot be opened";
        }
        Matcher v = MISSING_VERSION.matcher(text);
        if (v.find()) {
            return "symbol version '" + v.group(1) + "' not found (a library of another major version was loaded)";
        }
        Matcher s = MISSING_SYMBOL.matcher(text);
        if (s.find()) {
            return "undefined symbol " + s.group(1);
        }
        String first = text.lines().findFirst().orElse(t.getClass().getName());
        return first.length() > 200 ? first.substring(0, 200) + "..." : first;
    }
}
