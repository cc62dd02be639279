package dev.backprop.spark.transport;

import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Run in a JVM of its own with a small heap by {@link ReceiverFailureTest}: rank 0 waits in a broadcast from rank
 * 1, a rogue that holds the job's secret, which announces {@code args[0]} bytes ({@code heap}: the heap's maximum
 * less one byte, which cannot be allocated once anything else lives on the heap) and sends nothing more. Prints
 * {@code FAILED <ms after the header> <message>} or {@code RECEIVED}.
 */
public final class BroadcastHeapProbe {
    private BroadcastHeapProbe() {
    }

    public static void main(String[] args) throws Exception {
        int length = args[0].equals("heap") ? (int) Math.min(Integer.MAX_VALUE, Runtime.getRuntime().maxMemory() - 1)
                : Integer.parseInt(args[0]);
        JobSecret secret = JobSecret.random();
        TransportOptions options = TransportOptions.defaults().withIoTimeout(Duration.ofSeconds(60));
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, options)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", t.port()), new PeerAddress("127.0.0.1", 1));
            long[] failedAt = new long[1];
            CompletableFuture<byte[]> rank0 = CompletableFuture.supplyAsync(() -> {
                t.connect(0, peers, secret, 42);
                try {
                    return t.broadcast(null, 1);
                } finally {
                    failedAt[0] = System.nanoTime();
                }
            });
            try (Socket s = new Socket("127.0.0.1", t.port())) {
                Handshake.Session rogue = Handshake.connect(s, new Handshake.Group(secret, 42, 2), 1, 0,
                        System.nanoTime() + 10_000_000_000L);
                long sent = FrameAttackTest.sendHeader(rogue, Frame.Kind.BROADCAST, 1, length);
                try {
                    rank0.get(120, TimeUnit.SECONDS);
                    System.out.println("RECEIVED");
                } catch (ExecutionException e) {
                    System.out.printf(Locale.ROOT, "FAILED %.1f %s%n", (failedAt[0] - sent) / 1e6,
                            e.getCause().getMessage());
                }
            }
        }
    }
}
