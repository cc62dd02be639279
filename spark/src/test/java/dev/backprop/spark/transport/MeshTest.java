package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
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
    private static final long DEADLINE = 10_000_000_000L;

    /** Connects to {@code port} as rank {@code rank} of a 2-rank group and completes the handshake. */
    private static Handshake.Session impersonate(int port, JobSecret secret, long attempt, int rank)
            throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        return Handshake.connect(s, new Handshake.Group(secret, attempt, 2), rank, 0, System.nanoTime() + DEADLINE);
    }

    @Test
    void aPeerWhoseConnectionDropsWithoutGoodbyeFailsTheCollectiveNamingIt() throws Exception {
        JobSecret secret = JobSecret.random();
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, OPTIONS)) {
            var rank0 = CompletableFuture.runAsync(() -> {
                t.connect(0, List.of(new PeerAddress("127.0.0.1", t.port()), new PeerAddress("127.0.0.1", 1)),
                        secret, 9);
                t.allReduce(new float[8], 1.0);
            });
            Socket fake = impersonate(t.port(), secret, 9, 1).socket();
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
    void strangersOtherJobsAndStaleAttemptsAreTurnedAwayAndTheGroupStillForms() throws Exception {
        JobSecret secret = JobSecret.random();
        try (RankTransport r0 = RankTransport.listen("127.0.0.1", 0, OPTIONS);
             RankTransport r1 = RankTransport.listen("127.0.0.1", 0, OPTIONS)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", r0.port()),
                    new PeerAddress("127.0.0.1", r1.port()));
            var rank0 = CompletableFuture.supplyAsync(() -> {
                r0.connect(0, peers, secret, 77);
                float[] v = {1f};
                r0.allReduce(v, 1.0);
                return v[0];
            });
            try (Socket stranger = new Socket("127.0.0.1", r0.port())) {
                OutputStream out = stranger.getOutputStream();
                out.write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[Handshake.HELLO_BYTES]);
                out.flush();
                assertEquals(-1, stranger.getInputStream().read(), "the stranger is disconnected");
            }
            assertThrows(IOException.class, () -> impersonate(r0.port(), secret, 76, 1),
                    "an earlier attempt's rank 1 is disconnected");
            assertThrows(IOException.class, () -> impersonate(r0.port(), JobSecret.random(), 77, 1),
                    "another job's rank 1 is disconnected");
            r1.connect(1, peers, secret, 77);
            float[] v = {2f};
            r1.allReduce(v, 1.0);
            assertEquals(3f, v[0]);
            assertEquals(3f, rank0.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aLowerRankWithAnotherSecretFailsTheConnectingRankAtOnce() throws Exception {
        byte[] jobId = JobSecret.newJobId();
        JobSecret ours = JobSecret.derive("ours", jobId, "test");
        JobSecret theirs = JobSecret.derive("theirs", jobId, "test");
        TransportOptions quick = OPTIONS.withConnectTimeout(Duration.ofSeconds(3));
        try (RankTransport r0 = RankTransport.listen("127.0.0.1", 0, quick);
             RankTransport r1 = RankTransport.listen("127.0.0.1", 0, quick)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", r0.port()),
                    new PeerAddress("127.0.0.1", r1.port()));
            var rank0 = CompletableFuture.runAsync(() -> r0.connect(0, peers, theirs, 5));
            TransportException e1 = assertThrows(TransportException.class, () -> r1.connect(1, peers, ours, 5));
            assertEquals(0, e1.peerRank());
            assertTrue(e1.getMessage().startsWith("rank 1: rank 0 at " + peers.get(0) + " did not prove that it "
                    + "holds this job's secret"), e1.getMessage());
            var e0 = assertThrows(java.util.concurrent.ExecutionException.class, () -> rank0.get(30, TimeUnit.SECONDS));
            assertTrue(e0.getCause().getMessage().contains("rank 0: ranks [1] did not connect")
                    && e0.getCause().getMessage().contains("turned away 1 connection(s)"), e0.getCause().getMessage());
        }
    }

    @Test
    void theListeningSocketClosesOnceTheGroupIsFormed() throws Exception {
        var outcomes = LocalRanks.run(2, OPTIONS, t -> {
            t.barrier();
            int port = t.port();
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close(),
                    "rank " + t.rank() + " still accepts connections on " + port);
            return null;
        });
        outcomes.forEach(LocalRanks.Outcome::get);
    }

    @Test
    void aRankThatNeverConnectsIsNamedAfterTheConnectTimeout() {
        TransportOptions quick = OPTIONS.withConnectTimeout(Duration.ofMillis(400));
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, quick)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", t.port()),
                    new PeerAddress("127.0.0.1", 1), new PeerAddress("127.0.0.1", 2));
            TransportException e = assertThrows(TransportException.class,
                    () -> t.connect(0, peers, JobSecret.random(), 5));
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
            TransportException e = assertThrows(TransportException.class,
                    () -> t.connect(1, peers, JobSecret.random(), 5));
            assertEquals(0, e.peerRank());
            assertTrue(e.getMessage().contains("rank 1: could not connect to rank 0 at 127.0.0.1:" + closedPort),
                    e.getMessage());
        }
    }
}
