package dev.backprop.backend;

import java.util.Map;

/**
 * What a created backend can do.
 *
 * @param float64    whether FLOAT64 buffers and ops are supported
 * @param threadSafe whether the backend may be used from several threads at once; when false, the backend
 *                   throws {@link IllegalStateException} on a call from a thread other than its owner
 * @param details    facts for display ({@code vector=on (FloatVector 16 lanes)}, {@code threads=2})
 */
public record Capabilities(boolean float64, boolean threadSafe, Map<String, String> details) {
    /**
     * Copies {@code details}.
     *
     * @param float64    whether FLOAT64 buffers and ops are supported
     * @param threadSafe whether the backend may be used from several threads at once
     * @param details    facts for display
     */
    public Capabilities {
        details = Map.copyOf(details);
    }
}
