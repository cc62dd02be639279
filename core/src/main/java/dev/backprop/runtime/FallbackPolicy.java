package dev.backprop.runtime;

import java.util.Locale;

/**
 * What automatic selection does when a backend module on the class path cannot run, set with the system
 * property {@code backprop.fallback}.
 */
public enum FallbackPolicy {
    /** Move on to the next backend and log why at INFO (the default). */
    ALLOW,
    /** Move on and log why at WARNING. */
    WARN,
    /** Throw: a user who shipped the CUDA module never runs on the CPU by accident. */
    FAIL;

    /** {@return the policy from {@code backprop.fallback} ({@code allow}, {@code warn}, {@code fail})} */
    public static FallbackPolicy fromSystemProperty() {
        String v = System.getProperty("backprop.fallback");
        if (v == null || v.isBlank()) {
            return ALLOW;
        }
        try {
            return valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backprop.fallback must be allow, warn or fail; got '" + v + "'");
        }
    }
}
