package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connection set-up and the failures a real network produces, with the test acting as a misbehaving peer. */
class MeshTest {
    private static final TransportOptions OPTIONS = TransportOptions.defaults()
            .withConnectTimeout(Duration.ofSeconds(20)).withIoTimeout(Duration.ofSeconds(20));

    /** Connects to {@code port} as rank {@code rank} of job {@code token} and completes the handshake. */
    private static Socket impersonate(int port, int rank, long token) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        new Frame(Frame.Kind.HELLO, rank, token, 0, new byte[0]).writeTo(s.getOutputStream());
        Frame ack = Frame.readFrom(new DataInputStream(s.getInputStream()), 0);
        assertEquals(Frame.Kind.HELLO, ack.kind());
        return s;
    }

    @Test
    void aPeerWhoseConnectionDropsWithoutGoodbyeFailsTheCollectiveNamingIt() throws Exception {
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, OPTIONS)) {
            var rank0 = CompletableFuture.runAsync(() -> {
                t.connect(0, List.of(new PeerAddress("127.0.0.1", t.port()), new PeerAddress("127.0.0.1", 1)), 9);
                t.allReduce(new float[8], 1.0);
            });
            Socket fake = impersonate(t.port(), 1, 9);
            fake.setSoLinger(true, 0);
            fake.close();
            var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> rank0.get(30, TimeUnit.SECONDS));
            TransportException te = (TransportException) e.getCause();
            assertEquals(1, te.peerRank());
            assertTrue(te.getMessage().contains("rank 0: waiting for REDUCE #1: lost connection to rank 1"),
                    te.getMessage());
        }
    }

    @Test
    void strangersAndStaleAttemptsAreTurnedAwayAndTheGroupStillForms() throws Exception {
        try (RankTransport r0 = RankTransport.listen("127.0.0.1", 0, OPTIONS);
             RankTransport r1 = RankTransport.listen("127.0.0.1", 0, OPTIONS)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", r0.port()),
                    new PeerAddress("127.0.0.1", r1.port()));
            var rank0 = CompletableFuture.supplyAsync(() -> {
                r0.connect(0, peers, 77);
                float[] v = {1f};
                r0.allReduce(v, 1.0);
                return v[0];
            });
            try (Socket stranger = new Socket("127.0.0.1", r0.port())) {
                OutputStream out = stranger.getOutputStream();
                out.write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[32]);
                out.flush();
                assertEquals(-1, stranger.getInputStream().read(), "the stranger is disconnected");
            }
            try (Socket stale = new Socket("127.0.0.1", r0.port())) {
                new Frame(Frame.Kind.HELLO, 1, 76, 0, new byte[0]).writeTo(stale.getOutputStream());
                assertEquals(-1, stale.getInputStream().read(), "an earlier attempt's rank 1 is disconnected");
            }
            r1.connect(1, peers, 77);
            float[] v = {2f};
            r1.allReduce(v, 1.0);
            assertEquals(3f, v[0]);
            assertEquals(3f, rank0.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aRankThatNeverConnectsIsNamedAfterTheConnectTimeout() {
        TransportOptions quick = OPTIONS.withConnectTimeout(Duration.ofMillis(400));
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, quick)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", t.port()),
                    new PeerAddress("127.0.0.1", 1), new PeerAddress("127.0.0.1", 2));
            TransportException e = assertThrows(TransportException.class, () -> t.connect(0, peers, 5));
            assertEquals(1, e.peerRank());
            assertTrue(e.getMessage().contains("rank 0: ranks [1, 2] did not connect"), e.getMessage());
        }
    }

    @Test
    void anUnreachableLowerRankIsNamed() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        TransportOptions quick = OPTIONS.withConnectTimeout(Duration.ofMillis(400));
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, quick)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", closedPort),
                    new PeerAddress("127.0.0.1", t.port()));
            TransportException e = assertThrows(TransportException.class, () -> t.connect(1, peers, 5));
            assertEquals(0, e.peerRank());
            assertTrue(e.getMessage().contains("rank 1: could not connect to rank 0 at 127.0.0.1:" + closedPort),
                    e.getMessage());
        }
    }
}
