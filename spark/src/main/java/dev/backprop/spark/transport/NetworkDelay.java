package dev.backprop.spark.transport;

import java.io.Serializable;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * A simulated network for benchmarks: a message handed to a link arrives {@code latency + bytes / bandwidth}
 * later, when the link is idle. A link (one per pair of ranks and direction) carries one message's bytes at a
 * time, so a message sent while earlier ones are still being serialised starts after them (bandwidth is shared in
 * order), while latency, the time in flight, overlaps as on a real wire: {@link Link#arrival}. Each link pays its
 * own delay, as with a switch that gives every port its full bandwidth. The wait is a timed park of the link's
 * sender thread, which uses no CPU. {@link #NONE} adds nothing.
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
        return latencyNanos + transferNanos(bytes);
    }

    /** Nanoseconds to serialise {@code bytes} onto a link (0 for unlimited bandwidth). */
    long transferNanos(long bytes) {
        return bytesPerSecond == 0 ? 0 : Math.round(bytes / bytesPerSecond * 1e9);
    }

    /** Parks until {@link System#nanoTime()} reaches {@code end}; returns early only when interrupted (flag kept). */
    static void awaitUntil(long end) {
        for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    /** The state of one simulated link: when it finishes serialising what it was given so far. */
    static final class Link {
        private final NetworkDelay delay;
        private long idleAt = Long.MIN_VALUE;

        Link(NetworkDelay delay) {
            this.delay = delay;
        }

        /**
         * Hands a message of {@code bytes} to the link at {@link System#nanoTime()} {@code now}; returns when it
         * arrives: {@code max(now, link idle) + bytes / bandwidth + latency}. A message alone on the link takes
         * {@link #nanosFor}; calls must come in sending order.
         */
        synchronized long arrival(long now, long bytes) {
            long start = idleAt == Long.MIN_VALUE ? now : Math.max(now, idleAt);
            idleAt = start + delay.transferNanos(bytes);
            return idleAt + delay.latencyNanos();
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
