package dev.backprop.backend;

import java.util.Map;
import java.util.Optional;

/**
 * Settings for {@link BackendProvider#create}. A key {@code k} for backend {@code b} is looked up in the given
 * map, then in the system property {@code backprop.b.k} (for example {@code backprop.cpu.threads},
 * {@code backprop.opencl.device}, {@code backprop.cuda.tf32}).
 */
public final class BackendOptions {
    private final Map<String, String> values;

    private BackendOptions(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /**
     * No explicit settings: system properties only.
     *
     * @return the options
     */
    public static BackendOptions defaults() {
        return new BackendOptions(Map.of());
    }

    /**
     * Explicit settings; they win over system properties.
     *
     * @param values settings by key ({@code threads}, not {@code backprop.cpu.threads})
     * @return the options
     */
    public static BackendOptions of(Map<String, String> values) {
        return new BackendOptions(values);
    }

    /**
     * The value for {@code key} of backend {@code backend}, explicit first, then the system property.
     *
     * @param backend the backend's name
     * @param key     the setting
     * @return the value, trimmed, or empty when unset or blank
     */
    public Optional<String> get(String backend, String key) {
        String v = values.get(key);
        if (v == null) {
            v = System.getProperty("backprop." + backend + "." + key);
        }
        return Optional.ofNullable(v).map(String::trim).filter(s -> !s.isEmpty());
    }

    /**
     * An integer setting, with a clear error for a malformed value.
     *
     * @param backend  the backend's name
     * @param key      the setting
     * @param fallback the value when it is unset
     * @return the value
     * @throws IllegalArgumentException naming the property when the value is not an integer
     */
    public int getInt(String backend, String key, int fallback) {
        Optional<String> v = get(backend, key);
        if (v.isEmpty()) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.get());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backprop." + backend + "." + key + " must be an integer, got '"
                    + v.get() + "'");
        }
    }

    /**
     * A boolean setting ({@code true}/{@code false}), with a clear error for anything else.
     *
     * @param backend  the backend's name
     * @param key      the setting
     * @param fallback the value when it is unset
     * @return the value
     * @throws IllegalArgumentException naming the property when the value is neither true nor false
     */
    public boolean getBoolean(String backend, String key, boolean fallback) {
        Optional<String> v = get(backend, key);
        if (v.isEmpty()) {
            return fallback;
        }
        String s = v.get().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException("backprop." + backend + "." + key + " must be true or false, got '"
                + v.get() + "'");
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
