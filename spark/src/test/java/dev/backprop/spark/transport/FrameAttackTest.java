package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attacks on connections after the handshake. A {@link Relay} between rank 1 and rank 0 plays the man in the
 * middle on rank 1's frames (in order: REDUCE #1, GATHER #1, REDUCE #2, GATHER #2, ...); a rogue that holds the
 * job's secret plays a compromised rank. Each attack must fail the ranks with the reason, at once: the collective
 * timeout is a minute, so a failure that waited for it would show as a timeout message.
 */
class FrameAttackTest {
    private static final TransportOptions OPTIONS = TransportOptions.defaults()
            .withConnectTimeout(Duration.ofSeconds(20)).withIoTimeout(Duration.ofSeconds(60));

    @Test
    void theRelayAloneChangesNothing() throws Exception {
        var outcomes = throughRelay(Relay.FORWARD);
        for (var o : outcomes.ranks()) {
            assertArrayEquals(AttackProgram.expected(2), o.get());
        }
    }

    @Test
    void aReplayedFrameFailsTheStepAtOnce() throws Exception {
        assertFailsAtOnce("replayed frame (REDUCE #1 sent again after REDUCE #2)", (i, raw, relay, out) -> {
            out.write(raw);
            if (i == 2) {
                relay.attacked();
                out.write(relay.frame(0));
            }
        }, "the header of frame 3 failed authentication");
    }

    @Test
    void aReplayedPayloadUnderTheCurrentHeaderFailsTheStepAtOnce() throws Exception {
        assertFailsAtOnce("replayed payload (REDUCE #1's under REDUCE #2's header)", (i, raw, relay, out) -> {
            if (i == 2) {
                relay.attacked();
                byte[] old = relay.frame(0);
                out.write(raw, 0, Relay.payloadOffset());
                out.write(old, Relay.payloadOffset(), old.length - Relay.payloadOffset());
            } else {
                out.write(raw);
            }
        }, "the payload of frame 2 (REDUCE #2) failed authentication");
    }

    @Test
    void reorderedFramesFailTheStepAtOnce() throws Exception {
        byte[][] held = new byte[1][];
        assertFailsAtOnce("reordered frames (GATHER #2 before REDUCE #2)", (i, raw, relay, out) -> {
            if (i == 2) {
                held[0] = raw;
            } else if (i == 3) {
                relay.attacked();
                out.write(raw);
                out.write(held[0]);
            } else {
                out.write(raw);
            }
        }, "the header of frame 2 failed authentication");
    }

    @Test
    void replacedAveragedGradientsFailTheStepAtOnce() throws Exception {
        assertFailsAtOnce("altered GATHER #1 (averaged values [1e30, -1e30, 666, 666])", (i, raw, relay, out) -> {
            if (i == 1) {
                relay.attacked();
                byte[] forged = raw.clone();
                ByteBuffer.wrap(forged, Relay.payloadOffset(), 16).order(ByteOrder.LITTLE_ENDIAN)
                        .putFloat(1e30f).putFloat(-1e30f).putFloat(666).putFloat(666);
                out.write(forged);
            } else {
                out.write(raw);
            }
        }, "the payload of frame 1 (GATHER #1) failed authentication");
    }

    @Test
    void aForgedHeaderAnnouncingTwoGigabytesFailsAtOnceAndAllocatesNothing() throws Exception {
        assertFailsAtOnce("injected header announcing 2 GB (no key)", (i, raw, relay, out) -> {
            if (i == 2) {
                relay.attacked();
                byte[] forged = Arrays.copyOf(raw, Relay.payloadOffset());
                ByteBuffer.wrap(forged, 12, 4).putInt(Integer.MAX_VALUE);
                out.write(forged);
            } else if (i < 2) {
                out.write(raw);
            }
        }, "the header of frame 2 failed authentication");
    }

    @Test
    void aConnectionCutInsideAHeaderFailsTheStepAtOnce() throws Exception {
        assertFailsAtOnce("half a header, then the connection closes", (i, raw, relay, out) -> {
            if (i == 2) {
                relay.attacked();
                out.write(raw, 0, Frame.HEADER_BYTES / 2);
                out.flush();
                relay.close();
            } else {
                out.write(raw);
            }
        }, "connection closed inside the header of frame 2");
    }

    /** A rank that holds the secret but announces a chunk far larger than the all-reduce can carry. */
    @Test
    void anAuthenticatedPeerAnnouncingTwoGigabytesIsRefusedBeforeAllocating() throws Exception {
        JobSecret secret = JobSecret.random();
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, OPTIONS)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", t.port()), new PeerAddress("127.0.0.1", 1));
            long[] failedAt = new long[1];
            var rank0 = CompletableFuture.runAsync(() -> {
                t.connect(0, peers, secret, 42);
                try {
                    t.allReduce(new float[8], 1.0);
                } finally {
                    failedAt[0] = System.nanoTime();
                }
            });
            try (Socket s = new Socket("127.0.0.1", t.port())) {
                Handshake.Session rogue = Handshake.connect(s, new Handshake.Group(secret, 42, 2), 1, 0,
                        System.nanoTime() + 10_000_000_000L);
                long sent = sendHeader(rogue, Frame.Kind.REDUCE, 1, Integer.MAX_VALUE);
                var e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> rank0.get(90, TimeUnit.SECONDS));
                TransportException te = (TransportException) e.getCause();
                assertEquals(1, te.peerRank());
                assertTrue(te.getMessage().contains("rank 1 sent REDUCE #1 of 2147483647 bytes, more than a chunk of "
                        + "this all-reduce can hold (16 bytes: 8 floats over 2 ranks)"), te.getMessage());
                report("authenticated peer announces a 2 GB REDUCE", te.getMessage(), failedAt[0] - sent);
            }
        }
    }

    /** Another connection's frame, sealed with that connection's key, fails on this one. */
    @Test
    void aFrameFromAnotherConnectionFailsAuthentication() throws Exception {
        JobSecret secret = JobSecret.random();
        Handshake.Group group = new Handshake.Group(secret, 42, 3);
        try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            Handshake.Session[] fromOne = pair(server, group, 1);
            Handshake.Session[] fromTwo = pair(server, group, 2);
            java.io.ByteArrayOutputStream wire = new java.io.ByteArrayOutputStream();
            new Frame(Frame.Kind.GATHER, 1, 1, 0, new byte[] {1, 2, 3, 4}).writeTo(wire, fromOne[0].out());
            Frame.Admission any = (kind, seq, length) -> { };
            var e = assertThrows(java.net.ProtocolException.class, () -> Frame.readFrom(new java.io.DataInputStream(
                    new java.io.ByteArrayInputStream(wire.toByteArray())), fromTwo[1].in(), any));
            assertTrue(e.getMessage().contains("the header of frame 0 failed authentication"), e.getMessage());
            Frame f = Frame.readFrom(new java.io.DataInputStream(new java.io.ByteArrayInputStream(wire.toByteArray())),
                    fromOne[1].in(), any);
            assertArrayEquals(new byte[] {1, 2, 3, 4}, f.payload(), "the frame opens on its own connection");
            for (Handshake.Session s : new Handshake.Session[] {fromOne[0], fromOne[1], fromTwo[0], fromTwo[1]}) {
                s.socket().close();
            }
        }
    }

    /** Client rank {@code client} connects to {@code server} as rank 0: {client's session, server's session}. */
    private static Handshake.Session[] pair(ServerSocket server, Handshake.Group g, int client) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        var accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return Handshake.accept(server.accept(), g, 0, p -> p > 0, deadline);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        Handshake.Session c = Handshake.connect(new Socket("127.0.0.1", server.getLocalPort()), g, client, 0,
                deadline);
        return new Handshake.Session[] {c, accepted.get(10, TimeUnit.SECONDS)};
    }

    /** Writes an authenticated header announcing {@code length} payload bytes and nothing else; returns when. */
    static long sendHeader(Handshake.Session rogue, Frame.Kind kind, long seq, int length) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(Frame.HEADER_BYTES);
        h.putInt(Frame.MAGIC).putInt(kind.ordinal()).putInt(1).putInt(length).putLong(seq).putInt(0).putDouble(1.0);
        OutputStream out = rogue.socket().getOutputStream();
        out.write(h.array());
        out.write(rogue.out().headerTag(h.array()));
        out.flush();
        return System.nanoTime();
    }

    private record Run(List<LocalRanks.Outcome<float[]>> ranks, Relay relay) {
    }

    private static Run throughRelay(Relay.Editor editor) throws Exception {
        Relay[] relay = new Relay[1];
        List<LocalRanks.Outcome<float[]>> outcomes = LocalRanks.run(2, r -> OPTIONS, JobSecret.random(), real -> {
            relay[0] = new Relay(real.get(0), editor);
            return List.of(real, List.of(relay[0].address(), real.get(1)));
        }, AttackProgram::run);
        relay[0].close();
        return new Run(outcomes, relay[0]);
    }

    private static void assertFailsAtOnce(String attack, Relay.Editor editor, String reason) throws Exception {
        Run run = throughRelay(editor);
        Throwable e0 = run.ranks().get(0).error();
        assertNotNull(e0, attack + ": rank 0 finished as if nothing happened");
        assertTrue(e0 instanceof TransportException && e0.getMessage().contains(reason), attack + ": " + e0);
        Throwable e1 = run.ranks().get(1).error();
        assertTrue(e1 instanceof TransportException, attack + ": rank 1 " + e1);
        assertTrue(run.relay().attackNanos() != 0, attack + ": the attack never ran");
        report(attack, e0.getMessage(), run.ranks().get(0).endNanos() - run.relay().attackNanos());
    }

    static void report(String attack, String outcome, long nanos) {
        System.out.printf(Locale.ROOT, "attack: %s -> %s (%.1f ms after the attack)%n", attack, outcome, nanos / 1e6);
    }
}
