package dev.backprop.spark.transport;

import java.io.Serializable;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * A simulated network for benchmarks: before each message leaves, the sending link waits
 * {@code latency + bytes / bandwidth}. Each link (one per pair of ranks and direction) pays its own delay, as
 * with a switch that gives every port its full bandwidth. {@link #NONE} adds nothing.
 *
 * @param latencyNanos   added to every message, in nanoseconds ({@code >= 0})
 * @param bytesPerSecond link bandwidth; {@code 0} means unlimited
 */
public record NetworkDelay(long latencyNanos, double bytesPerSecond) implements Serializable {
    /** No simulated delay. */
    public static final NetworkDelay NONE = new NetworkDelay(0, 0);

    /** Validates the settings. */
    public NetworkDelay {
        if (latencyNanos < 0 || bytesPerSecond < 0 || Double.isNaN(bytesPerSecond)) {
            throw new IllegalArgumentException("network delay needs latency >= 0 and bandwidth >= 0, got "
                    + latencyNanos + " ns and " + bytesPerSecond + " B/s");
        }
    }

    /**
     * Parses {@code LATENCY[,BANDWIDTH]}, for example {@code 200us,10Gbit}, {@code 1ms,1Gbit}, {@code 0,125MB}
     * or {@code none}. Latency units: {@code ns us ms s} (a bare number is milliseconds). Bandwidth units, per
     * second: {@code Gbit Mbit Kbit} (bits) or {@code GB MB KB B} (bytes).
     *
     * @throws IllegalArgumentException naming the part that does not parse
     */
    public static NetworkDelay parse(String text) {
        String s = text.trim();
        if (s.isEmpty() || s.equalsIgnoreCase("none")) {
            return NONE;
        }
        String[] parts = s.split(",", -1);
        if (parts.length > 2) {
            throw new IllegalArgumentException("network delay '" + text + "': expected LATENCY[,BANDWIDTH]");
        }
        long latency = parseLatency(parts[0].trim(), text);
        double bandwidth = parts.length == 2 ? parseBandwidth(parts[1].trim(), text) : 0;
        return new NetworkDelay(latency, bandwidth);
    }

    private static long parseLatency(String s, String whole) {
        String[][] units = {{"ns", "1"}, {"us", "1e3"}, {"ms", "1e6"}, {"s", "1e9"}};
        for (String[] u : units) {
            if (s.toLowerCase(Locale.ROOT).endsWith(u[0])) {
                return Math.round(number(s.substring(0, s.length() - u[0].length()), whole)
                        * Double.parseDouble(u[1]));
            }
        }
        return Math.round(number(s, whole) * 1e6);
    }

    private static double parseBandwidth(String s, String whole) {
        String[][] units = {{"Gbit", "1.25e8"}, {"Mbit", "1.25e5"}, {"Kbit", "125"},
                {"GB", "1e9"}, {"MB", "1e6"}, {"KB", "1e3"}, {"B", "1"}};
        for (String[] u : units) {
            if (s.endsWith(u[0])) {
                return number(s.substring(0, s.length() - u[0].length()), whole) * Double.parseDouble(u[1]);
            }
        }
        throw new IllegalArgumentException("network delay '" + whole + "': bandwidth '" + s
                + "' needs a unit (Gbit, Mbit, Kbit, GB, MB, KB or B, per second)");
    }

    private static double number(String s, String whole) {
        try {
            double v = Double.parseDouble(s.trim());
            if (v < 0 || Double.isNaN(v) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("network delay '" + whole + "': '" + s
                    + "' is not a non-negative number");
        }
    }

    /** Whether this adds any delay. */
    public boolean isNone() {
        return latencyNanos == 0 && bytesPerSecond == 0;
    }

    /** The delay for one message of {@code bytes} bytes, in nanoseconds. */
    public long nanosFor(long bytes) {
        double transfer = bytesPerSecond == 0 ? 0 : bytes / bytesPerSecond * 1e9;
        return latencyNanos + Math.round(transfer);
    }

    /** Waits {@link #nanosFor(long) nanosFor(bytes)}; returns early only when interrupted (flag kept set). */
    void await(long bytes) {
        long end = System.nanoTime() + nanosFor(bytes);
        for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    @Override
    public String toString() {
        if (isNone()) {
            return "none";
        }
        return latencyNanos / 1e3 + " us latency" + (bytesPerSecond == 0 ? ""
                : ", " + bytesPerSecond * 8 / 1e9 + " Gbit/s");
    }
}
