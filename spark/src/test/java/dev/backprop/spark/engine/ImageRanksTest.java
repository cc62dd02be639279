package dev.backprop.spark.engine;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.io.ModelFile;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.TrainingSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CNN with batch norm and dropout on two ranks: each rank normalizes with its own batch statistics and rank 0's
 * buffers are saved (PyTorch DDP's default), each rank draws its own dropout masks, and the run is reproducible and
 * resumes from rank 0's checkpoint to the same bits, although the ranks' last batches of an epoch differ in size.
 */
class ImageRanksTest {
    private static final ModelFactory CNN = backend -> Sequential.builder(backend, DType.FLOAT32).seed(5)
            .conv2d(Conv2d.options(2, 4, 3).padding(1)).batchNorm2d(4).relu().maxPool2d(2).dropout(0.25).flatten()
            .dense(36, 8).batchNorm1d(8).relu().dropout(0.5).dense(8, 3).build();

    /** Seeded 2-channel 6x6 images of three classes, cut into shards of 45 and 38 (last batches of 8 and 6). */
    private static List<Dataset> shards() {
        Random r = new Random(17);
        int n = 83;
        float[] x = new float[n * 72];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            for (int k = 0; k < 72; k++) {
                boolean lit = (k / 36 == 1 && y[i] == 2) || (k % 36 < 18) == (y[i] == 0) && y[i] != 2;
                x[i * 72 + k] = (float) ((lit ? 1 : 0) + 0.3 * r.nextGaussian());
            }
        }
        Dataset all = Dataset.classification(x, new int[] {72}, y, 3, null);
        return TrainingFixtures.shards(all, 45, 38).stream().map(d -> d.withFeatureShape(2, 6, 6)).toList();
    }

    private static TrainingSpec.Builder spec() {
        return TrainingSpec.builder(CNN, OptimizerChoice.adam(0.01, 0)).batchSize(8).epochs(3).seed(11)
                .inputShape(2, 6, 6);
    }

    @Test
    void twoRanksTrainTheCnnReproduciblyAndResumeFromACheckpointToTheSameBits() throws Exception {
        List<Dataset> shards = shards();
        byte[] once = ThreadedRanks.train(spec().build(), shards, 1, null).get(0).outcome().modelFile();
        byte[] twice = ThreadedRanks.train(spec().build(), shards, 1, null).get(0).outcome().modelFile();
        assertArrayEquals(once, twice, "the same run twice: the same masks and statistics");

        MemoryCheckpointStore store = new MemoryCheckpointStore();
        TrainingSpec failing = spec().checkpoints("memory", 4).listener(e -> {
            if (e.rank() == 1 && e.stepsDone() == 7) {
                throw new IllegalStateException("planted failure at step 7");
            }
        }).build();
        assertThrows(ExecutionException.class, () -> ThreadedRanks.train(failing, shards, 1, store));
        assertEquals(4L, store.saved.lastKey(), "rank 0 checkpointed after step 4");
        List<ThreadedRanks.Result> resumed = ThreadedRanks.train(spec().checkpoints("memory", 4).build(), shards, 1,
                store);
        assertEquals(4, resumed.get(0).outcome().resumedFromStep());
        assertArrayEquals(once, resumed.get(0).outcome().modelFile(), "resumed on both ranks exactly");

        Path file = Files.createTempFile("cnn", ".safetensors");
        try (Backend be = ThreadedRanks.cpu(1)) {
            Files.write(file, once);
            try (Layer m = ModelFile.load(file, be)) {
                assertEquals(15, m.counters().get("1.num_batches_tracked")[0], "rank 0's 3 epochs of 5 steps");
                assertEquals(15, m.counters().get("7.num_batches_tracked")[0]);
                float[] mean = m.buffers().get("1.running_mean").toFloatArray();
                assertFalse(java.util.Arrays.equals(new float[4], mean), "rank 0's running statistics are saved");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void everyRankDrawsFromItsOwnStreamWithCountersThatAgree() {
        try (Backend be = ThreadedRanks.cpu(1); Layer a = CNN.create(be); Layer b = CNN.create(be)) {
            DropoutStreams rank0 = new DropoutStreams(a);
            DropoutStreams rank1 = new DropoutStreams(b);
            long seed = a.trainingState().get("4.dropout_seed")[0];
            rank0.keyForRank(0);
            rank1.keyForRank(1);
            assertEquals(seed, a.trainingState().get("4.dropout_seed")[0], "rank 0 keeps the key a checkpoint holds");
            assertNotEquals(seed, b.trainingState().get("4.dropout_seed")[0], "rank 1 draws other masks");
            assertNotEquals(a.trainingState().get("9.dropout_seed")[0], b.trainingState().get("9.dropout_seed")[0]);
            assertNotEquals(DropoutStreams.rankKey(1), DropoutStreams.rankKey(2));
            a.trainingState().get("4.dropout_offset")[0] = 123;
            b.trainingState().get("4.dropout_offset")[0] = 456;
            rank0.afterStep(7);
            rank1.afterStep(7);
            for (String k : List.of("4.dropout_offset", "9.dropout_offset")) {
                assertEquals(7L << 32, a.trainingState().get(k)[0], k);
                assertEquals(7L << 32, b.trainingState().get(k)[0], k);
            }
            assertTrue((7L << 32) > (6L << 32) + (1L << 29), "a step's blocks never reach the next step's");
        }
    }
}
