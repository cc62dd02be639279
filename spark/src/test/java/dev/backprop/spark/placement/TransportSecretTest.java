package dev.backprop.spark.placement;

import dev.backprop.backend.Backend;
import dev.backprop.data.Dataset;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.Example;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.RankReport;
import dev.backprop.spark.SparkTrainer;
import dev.backprop.spark.SparkTrainingResult;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.engine.ThreadedRanks;
import dev.backprop.spark.engine.TrainingFixtures;
import dev.backprop.spark.transport.JobSecret;
import dev.backprop.spark.transport.PeerAddress;
import dev.backprop.spark.transport.RankTransport;
import dev.backprop.spark.transport.TransportException;
import dev.backprop.spark.transport.TransportOptions;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the ranks' secret comes from, and that the ranks of a job, and only they, can connect with it. */
class TransportSecretTest {
    private static final TransportOptions QUICK = TransportOptions.defaults()
            .withConnectTimeout(Duration.ofSeconds(3)).withIoTimeout(Duration.ofSeconds(20));

    @Test
    void withoutSparkAuthenticationEachJobGetsItsOwnRandomSecretCarriedToTheRanks() throws Exception {
        TransportSecret job = TransportSecret.forJob(new SparkConf());
        assertFalse(job.fromSpark());
        // The ranks get copies through the task's serialization: they connect.
        JobSecret a = copy(job).resolve();
        JobSecret b = copy(job).resolve();
        assertEquals(3f, connectAndSum(a, b));
        JobSecret other = TransportSecret.forJob(new SparkConf()).resolve();
        TransportException e = assertThrows(TransportException.class, () -> connectAndSum(a, other));
        assertTrue(e.getMessage().contains("rank 1: could not connect to rank 0"), e.getMessage());
    }

    /**
     * With spark.authenticate on (local mode makes Spark generate the secret), the ranks derive the key from Spark's
     * secret: training runs as without it, bit-identical to the one-JVM run, and on loopback.
     */
    @Test
    void withSparkAuthenticationTheRanksDeriveTheSecretFromSparksAndTrainOnLoopback() throws Exception {
        JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]")
                .setAppName("backprop-spark-secret-test").set("spark.ui.enabled", "false")
                .set("spark.authenticate", "true"));
        try {
            TransportSecret job = TransportSecret.forJob(sc.getConf());
            assertTrue(job.fromSpark());
            assertTrue(job.resolve().describe().startsWith("derived from spark.authenticate, job "));
            assertEquals(3f, connectAndSum(copy(job).resolve(), copy(job).resolve()));
            Dataset data = TrainingFixtures.clusters(96, 12, 4, 3);
            JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, data, 2);
            TrainingSpec s = TrainingSpec.builder(ModelFactory.mlp(new Mlp(new int[] {12, 16, 4},
                    Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 7)), OptimizerChoice.adam(0.01, 0)).batchSize(16)
                    .epochs(2).seed(11).build();
            SparkTrainingResult r = new SparkTrainer(s).fit(rdd);
            List<Dataset> shards = new ArrayList<>();
            for (List<Example> part : rdd.glom().collect()) {
                shards.add(Shards.toDataset(part.iterator(), Task.CLASSIFICATION, 4));
            }
            try (Backend b = ThreadedRanks.cpu(1)) {
                assertArrayEquals(TrainingFixtures.oneJvmDataParallel(s, shards, b), r.modelFile());
            }
            for (RankReport rep : r.reports()) {
                assertEquals("127.0.0.1", rep.host(), "a local master's ranks listen on loopback");
            }
        } finally {
            sc.stop();
        }
    }

    private static TransportSecret copy(TransportSecret s) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(s);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (TransportSecret) in.readObject();
        }
    }

    /** Rank 0 with {@code a} and rank 1 with {@code b} connect and all-reduce 1 and 2. */
    private static float connectAndSum(JobSecret a, JobSecret b) throws Exception {
        try (RankTransport r0 = RankTransport.listen("127.0.0.1", 0, QUICK);
             RankTransport r1 = RankTransport.listen("127.0.0.1", 0, QUICK)) {
            List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", r0.port()),
                    new PeerAddress("127.0.0.1", r1.port()));
            CompletableFuture<Void> zero = CompletableFuture.runAsync(() -> {
                r0.connect(0, peers, a, 1);
                r0.allReduce(new float[] {1f}, 1.0);
            });
            try {
                r1.connect(1, peers, b, 1);
                float[] v = {2f};
                r1.allReduce(v, 1.0);
                zero.get(30, TimeUnit.SECONDS);
                return v[0];
            } finally {
                r1.close();
                r0.close();
            }
        }
    }
}
