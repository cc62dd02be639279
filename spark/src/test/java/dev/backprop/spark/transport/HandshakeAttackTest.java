package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attacks while the group forms: connections to rank 0's port that stay silent, stop half-way, trickle bytes,
 * hold the wrong secret, or replay a real rank's handshake. Each runs against a group of two ranks, started before
 * rank 1 connects; the group must still form and compute the bit-identical result. Handshakes may take 1 s here.
 */
class HandshakeAttackTest {
    private static final TransportOptions OPTIONS = TransportOptions.defaults()
            .withConnectTimeout(Duration.ofSeconds(20)).withIoTimeout(Duration.ofSeconds(20))
            .withHandshakeTimeout(Duration.ofSeconds(1));

    @Test
    void anIdleConnectionDelaysNoOne() throws Exception {
        try (Socket idle = new Socket()) {
            assertTrainsCorrectly("idle connection", secret -> idle.connect(address0().socketAddress()), null);
        }
    }

    @Test
    void halfAHelloDelaysNoOne() throws Exception {
        try (Socket half = new Socket()) {
            assertTrainsCorrectly("half a hello, then silence", secret -> {
                half.connect(address0().socketAddress());
                half.getOutputStream().write(hello(secret, 1), 0, Handshake.HELLO_BYTES / 2);
                half.getOutputStream().flush();
            }, null);
        }
    }

    @Test
    void aSlowLorisHandshakeIsCutAtItsDeadlineAndDelaysNoOne() throws Exception {
        try (Socket slow = new Socket()) {
            CompletableFuture<String> cut = new CompletableFuture<>();
            assertTrainsCorrectly("slow loris (one byte of a hello every 100 ms)", secret -> {
                slow.connect(address0().socketAddress());
                byte[] hello = hello(secret, 1);
                Thread t = new Thread(() -> {
                    try {
                        for (byte b : hello) {
                            slow.getOutputStream().write(b);
                            slow.getOutputStream().flush();
                            Thread.sleep(100);
                        }
                        cut.complete("the whole hello went through; the server answered "
                                + slow.getInputStream().read());
                    } catch (IOException | InterruptedException e) {
                        cut.complete("cut: " + e.getClass().getSimpleName());
                    }
                });
                t.setDaemon(true);
                t.start();
            }, null);
            // 76 bytes at 100 ms take 7.6 s: the 1 s handshake deadline must end it, although every byte is on time.
            assertTrue(cut.get(30, TimeUnit.SECONDS).startsWith("cut: "), cut.getNow(""));
        }
    }

    @Test
    void aPeerWithTheWrongSecretIsTurnedAway() throws Exception {
        CompletableFuture<Integer> answer = new CompletableFuture<>();
        assertTrainsCorrectly("wrong secret (claims rank 1)", secret -> {
            Thread t = new Thread(() -> answer.complete(claimWithProof(hello(secret, 1), new byte[Crypto.TAG_BYTES])));
            t.setDaemon(true);
            t.start();
        }, answer);
        assertEquals(-1, answer.get(), "the server closes the connection after a wrong proof");
    }

    @Test
    void aReplayedHandshakeOfARealRankIsTurnedAway() throws Exception {
        JobSecret secret = JobSecret.random();
        Relay[] relay = new Relay[1];
        var first = LocalRanks.run(2, r -> OPTIONS, secret, real -> {
            relay[0] = new Relay(real.get(0), Relay.FORWARD);
            return List.of(real, List.of(relay[0].address(), real.get(1)));
        }, AttackProgram::run);
        first.forEach(LocalRanks.Outcome::get);
        relay[0].close();
        byte[] recorded = relay[0].clientHandshake();
        byte[] hello = java.util.Arrays.copyOf(recorded, Handshake.HELLO_BYTES);
        byte[] proof = java.util.Arrays.copyOfRange(recorded, Handshake.HELLO_BYTES, recorded.length);
        CompletableFuture<Integer> answer = new CompletableFuture<>();
        assertTrainsCorrectly(secret, "replayed handshake of rank 1 (same secret and attempt)", s -> {
            Thread t = new Thread(() -> answer.complete(claimWithProof(hello, proof)));
            t.setDaemon(true);
            t.start();
        }, answer);
        assertEquals(-1, answer.get(), "the recorded proof does not answer a new nonce");
    }

    @Test
    void aFloodOfIdleConnectionsDelaysTheGroupOnlyUntilTheirHandshakesExpire() throws Exception {
        List<Socket> flood = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Integer> connected = new CompletableFuture<>();
        int count = Mesh.MAX_HANDSHAKES + 36;
        try {
            // From a thread of its own: rank 0 must be accepting, or its listen backlog fills.
            assertTrainsCorrectly("flood of " + count + " idle connections", secret -> {
                Thread t = new Thread(() -> {
                    int n = 0;
                    for (int i = 0; i < count; i++) {
                        Socket s = new Socket();
                        flood.add(s);
                        try {
                            s.connect(address0().socketAddress(), 5000);
                            n++;
                        } catch (IOException e) {
                            // Refused while the backlog is full: the flood goes on.
                        }
                    }
                    connected.complete(n);
                });
                t.setDaemon(true);
                t.start();
            }, connected);
            assertTrue(connected.get() > Mesh.MAX_HANDSHAKES, "connections made: " + connected.get());
        } finally {
            for (Socket s : flood) {
                s.close();
            }
        }
    }

    /** Rank 0's address in the running test (the tests of a class run one at a time). */
    private static volatile PeerAddress rank0;

    private static PeerAddress address0() {
        return rank0;
    }

    /** What an attack does once rank 0 listens, on the test's thread. */
    private interface Attack {
        void start(JobSecret secret) throws Exception;
    }

    private static void assertTrainsCorrectly(String name, Attack attack, CompletableFuture<?> before)
            throws Exception {
        assertTrainsCorrectly(JobSecret.random(), name, attack, before);
    }

    /**
     * Runs the program on two ranks while {@code attack} runs against rank 0; rank 1 connects once {@code before}
     * (if any) is done.
     */
    private static void assertTrainsCorrectly(JobSecret secret, String name, Attack attack,
                                              CompletableFuture<?> before) throws Exception {
        long[] started = new long[1];
        var outcomes = LocalRanks.run(2, r -> OPTIONS, secret, new LocalRanks.Interposer() {
            @Override
            public List<List<PeerAddress>> addresses(List<PeerAddress> real) throws Exception {
                rank0 = real.get(0);
                started[0] = System.nanoTime();
                attack.start(secret);
                return List.of(real, real);
            }

            @Override
            public void beforeConnect(int rank) throws Exception {
                if (rank == 1 && before != null) {
                    before.get(30, TimeUnit.SECONDS);
                }
            }
        }, AttackProgram::run);
        for (var o : outcomes) {
            assertArrayEquals(AttackProgram.expected(2), o.get(), name);
        }
        FrameAttackTest.report(name, "trained bit-identically", outcomes.get(0).endNanos() - started[0]);
    }

    /** A client hello for this job's stage attempt 42, claiming rank {@code client} of 2 and a fresh nonce. */
    static byte[] hello(JobSecret secret, int client) {
        ByteBuffer b = ByteBuffer.allocate(Handshake.HELLO_BYTES);
        b.putInt(Frame.MAGIC).putInt(Handshake.VERSION).put(secret.jobId()).putLong(42).putInt(2).putInt(client)
                .putInt(0).put(Crypto.random(Crypto.NONCE_BYTES));
        return b.array();
    }

    /**
     * Sends {@code hello} to rank 0, reads its reply, sends {@code proof}; returns the next byte the server sends
     * (-1 when it closes the connection).
     */
    private static int claimWithProof(byte[] hello, byte[] proof) {
        try (Socket s = new Socket()) {
            s.connect(address0().socketAddress());
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(hello);
            out.flush();
            in.readNBytes(Handshake.REPLY_BYTES);
            out.write(proof);
            out.flush();
            return in.read();
        } catch (SocketException e) {
            return -1;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
