package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkDelayTest {
    @Test
    void parsesLatencyAndBandwidthWithUnits() {
        NetworkDelay d = NetworkDelay.parse("200us,10Gbit");
        assertEquals(200_000, d.latencyNanos());
        assertEquals(1.25e9, d.bytesPerSecond());
        assertEquals(200_000 + 800_000, d.nanosFor(1_000_000));
        assertEquals(2_000_000, NetworkDelay.parse("2").latencyNanos(), "a bare number is milliseconds");
        assertEquals(125e6, NetworkDelay.parse("0,125MB").bytesPerSecond());
        assertEquals(NetworkDelay.NONE, NetworkDelay.parse("none"));
        assertTrue(NetworkDelay.NONE.isNone());
    }

    @Test
    void aLinkSerialisesBytesInOrderWhileLatencyOverlaps() {
        NetworkDelay d = NetworkDelay.parse("200us,10Gbit");
        NetworkDelay.Link link = new NetworkDelay.Link(d);
        long t = 1_000_000_000L;
        assertEquals(t + d.nanosFor(1_000_000), link.arrival(t, 1_000_000), "alone: latency + bytes / bandwidth");
        // Handed over while the first is still being serialised (800 us): starts when it is done.
        assertEquals(t + 800_000 + 80_000 + 200_000, link.arrival(t + 10_000, 100_000));
        // Handed over after the link went idle: as if alone.
        long later = t + 5_000_000;
        assertEquals(later + d.nanosFor(1_000), link.arrival(later, 1_000));
    }

    @Test
    void rejectsWhatItCannotRead() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NetworkDelay.parse("1ms,10"))
                .getMessage().contains("needs a unit"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NetworkDelay.parse("fast"))
                .getMessage().contains("'fast' is not a non-negative number"));
        assertThrows(IllegalArgumentException.class, () -> NetworkDelay.parse("1ms,1Gbit,3"));
        assertThrows(IllegalArgumentException.class, () -> new NetworkDelay(-1, 0));
    }
}
