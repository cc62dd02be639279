package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RankTransportTest {
    private static final TransportOptions FAST = TransportOptions.defaults()
            .withConnectTimeout(Duration.ofSeconds(20)).withIoTimeout(Duration.ofSeconds(20));

    /**
     * Rank r's vector. Element i holds, across the ranks, a large value, its negation and a small value in an
     * order drawn per element, so adding the ranks' copies in any order but rank order gives other bits.
     */
    static float[] vector(int rank, int length) {
        Random shared = new Random(length);
        Random own = new Random(1000L * rank + length);
        float[] v = new float[length];
        for (int i = 0; i < length; i++) {
            float big = (float) Math.scalb(1 + shared.nextDouble(), 40 + shared.nextInt(20));
            int role = Math.floorMod(rank + shared.nextInt(3), 3);
            float small = (float) (own.nextGaussian() * Math.pow(10, own.nextInt(9) - 4));
            v[i] = role == 0 ? big : role == 1 ? -big : small;
        }
        return v;
    }

    /** Weight 1 keeps the cancellation exact in rank order; other weights are tested separately. */
    private static double weight(int rank) {
        return 1.0;
    }

    /** The sequential sum the all-reduce promises, written out independently. */
    static float[] expected(int ranks, int length) {
        float[][] x = new float[ranks][];
        for (int r = 0; r < ranks; r++) {
            x[r] = vector(r, length);
        }
        float[] out = new float[length];
        for (int i = 0; i < length; i++) {
            double acc = 0;
            for (int r = 0; r < ranks; r++) {
                acc += weight(r) * x[r][i];
            }
            out[i] = (float) acc;
        }
        return out;
    }

    private static List<float[]> allReduce(int ranks, int length, java.util.function.IntFunction<TransportOptions> o)
            throws Exception {
        List<float[]> results = new ArrayList<>();
        for (var outcome : LocalRanks.run(ranks, o, t -> {
            float[] v = vector(t.rank(), length);
            t.allReduce(v, weight(t.rank()));
            return v;
        })) {
            results.add(outcome.get());
        }
        return results;
    }

    @Test
    void allReduceIsTheRankOrderSumBitForBitForOneTwoAndThreeRanks() throws Exception {
        for (int ranks = 1; ranks <= 3; ranks++) {
            for (int length : new int[] {0, 1, 2, 7, 1000, 235_146}) {
                float[] want = expected(ranks, length);
                List<float[]> got = allReduce(ranks, length, r -> FAST);
                for (int r = 0; r < ranks; r++) {
                    assertArrayEquals(want, got.get(r), ranks + " ranks, length " + length + ", rank " + r);
                }
            }
        }
    }

    @Test
    void arrivalOrderDoesNotChangeTheBits() throws Exception {
        int length = 10_001;
        float[] want = expected(3, length);
        long[][] latencyOrders = {{0, 8, 16}, {0, 16, 8}, {8, 0, 16}, {8, 16, 0}, {16, 0, 8}, {16, 8, 0}};
        for (long[] ms : latencyOrders) {
            List<float[]> got = allReduce(3, length,
                    r -> FAST.withDelay(new NetworkDelay(ms[r] * 1_000_000, 0)));
            for (int r = 0; r < 3; r++) {
                assertArrayEquals(want, got.get(r), "latencies " + Arrays.toString(ms) + " ms, rank " + r);
            }
        }
    }

    /** Buckets in any order and of any size, delivered with skewed latencies: still the rank-order sum. */
    @Test
    void bucketsPostedInAnyOrderGiveTheSameBits() throws Exception {
        int length = 10_001;
        int[][] buckets = {{9_000, 10_001}, {0, 1}, {1, 5_000}, {5_000, 5_000}, {5_000, 9_000}};
        for (int ranks = 1; ranks <= 3; ranks++) {
            float[] want = expected(ranks, length);
            long[] ms = {4, 0, 8};
            for (var o : LocalRanks.run(ranks, r -> FAST.withDelay(new NetworkDelay(ms[r] * 1_000_000, 1e8)), t -> {
                float[] v = vector(t.rank(), length);
                BucketedAllReduce r = t.startAllReduce(v, weight(t.rank()));
                for (int[] b : buckets) {
                    r.post(b[0], b[1]);
                }
                assertThrows(IllegalStateException.class, () -> t.broadcast(new byte[1], 0),
                        "no other collective while an all-reduce is open");
                r.finish();
                return v;
            })) {
                assertArrayEquals(want, o.get(), ranks + " ranks");
            }
        }
    }

    @Test
    void ranksThatPostOtherBucketsFailClearly() throws Exception {
        var outcomes = LocalRanks.run(2, FAST, t -> {
            BucketedAllReduce r = t.startAllReduce(new float[100], 1.0);
            r.post(0, t.rank() == 0 ? 50 : 60);
            r.finish();
            return null;
        });
        TransportException e = (TransportException) outcomes.get(0).error();
        assertTrue(e.getMessage().contains("disagree on the vector length"), e.getMessage());
    }

    @Test
    void eachRanksWeightScalesItsCopy() throws Exception {
        double[] w = {0.5, 0.25, 1.0 / 3};
        var outcomes = LocalRanks.run(3, FAST, t -> {
            float[] v = {1f, 2f, 3f, 4f};
            for (int i = 0; i < v.length; i++) {
                v[i] *= t.rank() + 1;
            }
            t.allReduce(v, w[t.rank()]);
            return v;
        });
        double perUnit = 0.5 * 1 + 0.25 * 2 + 3.0 / 3;
        for (var o : outcomes) {
            assertArrayEquals(new float[] {(float) perUnit, (float) (2 * perUnit), (float) (3 * perUnit),
                    (float) (4 * perUnit)}, o.get());
        }
    }

    @Test
    void manyCollectivesInARowStayInStep() throws Exception {
        var outcomes = LocalRanks.run(3, FAST, t -> {
            float[] v = new float[5];
            for (int step = 0; step < 200; step++) {
                Arrays.fill(v, t.rank() + step);
                t.allReduce(v, 1.0);
                if ((int) v[0] != 3 * step + 3) {
                    throw new AssertionError("step " + step + ": " + v[0]);
                }
            }
            t.barrier();
            return t.stats();
        });
        for (var o : outcomes) {
            assertEquals(201, o.get().allReduces());
        }
    }

    @Test
    void broadcastDeliversTheRootsBytesToEveryRank() throws Exception {
        byte[] payload = new byte[300_001];
        new Random(7).nextBytes(payload);
        var outcomes = LocalRanks.run(3, FAST, t -> t.broadcast(t.rank() == 1 ? payload : null, 1));
        for (var o : outcomes) {
            assertArrayEquals(payload, o.get());
        }
    }

    @Test
    void aSilentPeerGivesATimeoutNamingItNotAHang() throws Exception {
        TransportOptions shortIo = FAST.withIoTimeout(Duration.ofMillis(500));
        var outcomes = LocalRanks.run(2, shortIo, t -> {
            if (t.rank() == 1) {
                Thread.sleep(3000);
                return null;
            }
            t.allReduce(new float[10], 1.0);
            return null;
        });
        TransportException e = (TransportException) outcomes.get(0).error();
        assertEquals(1, e.peerRank());
        assertTrue(e.getMessage().contains("rank 0: no REDUCE #1 from rank 1 within PT0.5S"), e.getMessage());
    }

    @Test
    void aPeerThatClosesMidwayFailsTheOthersAtOnceNamingIt() throws Exception {
        var outcomes = LocalRanks.run(3, FAST, t -> {
            float[] v = new float[100];
            t.allReduce(v, 1.0);
            if (t.rank() == 2) {
                t.close();
                return null;
            }
            t.allReduce(v, 1.0);
            return null;
        });
        for (int r = 0; r < 2; r++) {
            TransportException e = (TransportException) outcomes.get(r).error();
            assertEquals(2, e.peerRank(), e.getMessage());
            assertTrue(e.getMessage().contains("rank 2 left the group"), e.getMessage());
        }
    }

    @Test
    void ranksThatDisagreeOnTheVectorLengthFailClearly() throws Exception {
        var outcomes = LocalRanks.run(2, FAST, t -> {
            t.allReduce(new float[t.rank() == 0 ? 10 : 12], 1.0);
            return null;
        });
        TransportException e = (TransportException) outcomes.get(0).error();
        assertTrue(e.getMessage().contains("disagree on the vector length"), e.getMessage());
    }

    @Test
    void ranksOnDifferentSchedulesFailClearly() throws Exception {
        // Rank 1 stays connected until rank 0 has judged its frame: a rank that left first would make the outcome
        // a race between the mismatch and the lost connection.
        java.util.concurrent.CountDownLatch judged = new java.util.concurrent.CountDownLatch(1);
        var outcomes = LocalRanks.run(2, FAST, t -> {
            if (t.rank() == 0) {
                try {
                    t.allReduce(new float[4], 1.0);
                } finally {
                    judged.countDown();
                }
            } else {
                t.broadcast(new byte[4], 1);
                judged.await(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            return null;
        });
        TransportException e = (TransportException) outcomes.get(0).error();
        assertTrue(e.getMessage().contains("expected REDUCE #1 from rank 1 but got BROADCAST #1"), e.getMessage());
    }

    @Test
    void collectivesNeedAConnectedOpenTransport() {
        try (RankTransport t = RankTransport.listen("127.0.0.1", 0, FAST)) {
            assertThrows(IllegalStateException.class, () -> t.allReduce(new float[1], 1));
            t.connect(0, List.of(new PeerAddress("127.0.0.1", t.port())), JobSecret.random(), 1);
            float[] v = {3f};
            t.allReduce(v, 0.5);
            assertEquals(1.5f, v[0]);
            t.close();
            assertThrows(IllegalStateException.class, () -> t.allReduce(v, 1));
        }
    }
}
