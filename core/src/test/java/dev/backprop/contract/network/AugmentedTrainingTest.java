package dev.backprop.contract.network;

import dev.backprop.backend.DType;
import dev.backprop.data.Augmentation;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.ModelFixtures;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.train.BatchResult;
import dev.backprop.train.EpochListener;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Trainer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training with an {@link Augmentation}: the loader augments each example with its own draw, afresh each epoch and on
 * the host; a run resumed from a checkpoint ends with the same model file as an uninterrupted one; validation is not
 * augmented; loaders and trainers that disagree are refused.
 */
class AugmentedTrainingTest {
    private static final Augmentation AUGMENT = Augmentation.parse("crop:2,hflip");
    private final ReferenceBackend backend = new ReferenceBackend();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void theLoaderAugmentsEachExampleWithItsDrawOnTheHost() {
        Dataset data = TrainingCases.images(10, 3);
        int[] order = {4, 9, 0, 7, 2, 1, 3, 5, 6, 8};
        try (BatchLoader plain = new BatchLoader(data, backend, 4);
             BatchLoader augmenting = new BatchLoader(data, backend, DType.FLOAT32, 4, AUGMENT, 11)) {
            assertFalse(augmenting.resident());
            for (int epoch : new int[] {0, 3}) {
                augmenting.startEpoch(epoch);
                float[] got = augmenting.load(order, 4, 8).features().toFloatArray();
                float[] want = plain.load(order, 4, 8).features().toFloatArray();
                for (int i = 0; i < 4; i++) {
                    AUGMENT.apply(want, i * 72, data.featureShape(), AUGMENT.draw(11, epoch, 4 + i), new float[72]);
                }
                assertArrayEquals(want, got, "epoch " + epoch);
            }
            augmenting.startEpoch(0);
            float[] first = augmenting.load(order, 0, 4).features().toFloatArray();
            augmenting.startEpoch(1);
            assertFalse(Arrays.equals(first, augmenting.load(order, 0, 4).features().toFloatArray()),
                    "another epoch, other draws");
            assertFalse(Arrays.equals(first, plain.load(order, 0, 4).features().toFloatArray()), "augmented");
        }
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    /**
     * With the weights held still (learning rate 0) and no shuffle, each epoch sees the same batches: without
     * augmentation the per-step losses repeat, with it each epoch draws afresh and they do not.
     */
    @Test
    void eachEpochDrawsAfresh() {
        Dataset data = TrainingCases.images(16, 9);
        List<Double> plain = stepLosses(data, Augmentation.NONE), augmented = stepLosses(data, AUGMENT);
        assertEquals(plain.subList(0, 4), plain.subList(4, 8));
        assertFalse(augmented.subList(0, 4).equals(augmented.subList(4, 8)), augmented.toString());
        assertFalse(augmented.subList(0, 4).equals(plain.subList(0, 4)), augmented.toString());
    }

    private List<Double> stepLosses(Dataset data, Augmentation a) {
        List<Double> losses = new ArrayList<>();
        try (Sequential m = Sequential.builder(backend, DType.FLOAT64).seed(4).flatten().dense(72, 3).build();
             Sgd sgd = new Sgd(m.parameters(), 0.0)) {
            Trainer t = Trainer.builder(m, new SoftmaxCrossEntropy(), sgd).batchSize(4).seed(2).shuffle(false)
                    .augmentation(a).build();
            t.fit(data, null, 2, new EpochListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                }

                @Override
                public void onBatch(BatchResult batch) {
                    losses.add(batch.loss());
                }
            });
        }
        return losses;
    }

    @Test
    void aResumedAugmentedRunEndsWithTheUninterruptedRunsModelFile() throws IOException {
        Dataset data = TrainingCases.images(37, 24);
        Path straight = dir.resolve("straight.safetensors"), resumed = dir.resolve("resumed.safetensors");
        Path plain = dir.resolve("plain.safetensors"), ckpt = dir.resolve("ckpt.safetensors");
        try (Sequential a = TrainingCases.imageNet(backend, DType.FLOAT64, 25);
             Sequential b = TrainingCases.imageNet(backend, DType.FLOAT64, 25);
             Sequential c = TrainingCases.imageNet(backend, DType.FLOAT64, 26);
             Sequential d = TrainingCases.imageNet(backend, DType.FLOAT64, 25)) {
            List<EpochMetrics> all = trainer(a, AUGMENT).fit(data, data, 3, null);
            ModelFile.save(straight, a);
            Trainer first = trainer(b, AUGMENT);
            first.fit(data, data, 1, null);
            first.saveCheckpoint(ckpt);
            Trainer then = trainer(c, AUGMENT);
            then.restoreCheckpoint(ckpt);
            List<EpochMetrics> rest = then.fit(data, data, 2, null);
            ModelFile.save(resumed, c);
            assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed));
            assertEquals(all.get(2).trainLoss(), rest.get(1).trainLoss());

            Trainer unaugmented = trainer(d, Augmentation.NONE);
            unaugmented.fit(data, data, 3, null);
            ModelFile.save(plain, d);
            assertFalse(Arrays.equals(Files.readAllBytes(straight), Files.readAllBytes(plain)),
                    "the augmentation changes the run");
            // Validation reads the examples as they are: what an unaugmented evaluation of the same model gives.
            assertEquals(all.get(2).validation().loss(), trainer(a, Augmentation.NONE).evaluate(data).loss());
        } finally {
            for (Path p : List.of(straight, resumed, plain)) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * The engine resumes mid-epoch ({@link Trainer#resumeAt}): the rest of the epoch must get the draws the
     * uninterrupted run gave those positions, so both runs end with the same weights.
     */
    @Test
    void aRunResumedMidEpochEndsWithTheUninterruptedRunsWeights() throws IOException {
        Dataset data = TrainingCases.images(37, 24);
        Path mid = dir.resolve("mid.safetensors");
        try (Sequential a = Sequential.builder(backend, DType.FLOAT64).seed(4).flatten().dense(72, 3).build();
             Sgd sgd = new Sgd(a.parameters(), 0.1)) {
            Trainer.builder(a, new SoftmaxCrossEntropy(), sgd).batchSize(8).seed(23).augmentation(AUGMENT).build()
                    .fit(data, null, 2, new EpochListener() {
                        @Override
                        public void onEpoch(EpochMetrics metrics) {
                        }

                        @Override
                        public void onBatch(BatchResult batch) {
                            if (batch.position().epoch() == 2 && batch.position().batch() == 2) {
                                try {
                                    ModelFile.save(mid, a);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            }
                        }
                    });
            try (var b = ModelFile.load(mid, backend, DType.FLOAT64); Sgd rest = new Sgd(b.parameters(), 0.1)) {
                Trainer t = Trainer.builder(b, new SoftmaxCrossEntropy(), rest).batchSize(8).seed(23)
                        .augmentation(AUGMENT).build();
                t.resumeAt(1, 2);
                t.fit(data, null, 1, null);
                for (var e : a.parameters().entrySet()) {
                    assertArrayEquals(e.getValue().value().toDoubleArray(),
                            b.parameters().get(e.getKey()).value().toDoubleArray(), e.getKey());
                }
            }
        } finally {
            Files.deleteIfExists(mid);
        }
    }

    /**
     * A checkpoint keeps the trainer's augmentation as it keeps its seed and batch size: restored into a trainer that
     * augments otherwise (or not at all), the run would not continue as the interrupted one, so it is refused and
     * nothing is changed.
     */
    @Test
    void aCheckpointIsRestoredOnlyWithTheAugmentationItWasTrainedWith() throws IOException {
        Dataset data = TrainingCases.images(16, 24);
        Path augmented = dir.resolve("augmented.safetensors"), plain = dir.resolve("plain.safetensors");
        try (Sequential a = TrainingCases.imageNet(backend, DType.FLOAT64, 25);
             Sequential b = TrainingCases.imageNet(backend, DType.FLOAT64, 25)) {
            Trainer first = trainer(a, AUGMENT);
            first.fit(data, null, 1, null);
            first.saveCheckpoint(augmented);
            Trainer second = trainer(b, Augmentation.NONE);
            second.fit(data, null, 1, null);
            second.saveCheckpoint(plain);
            Augmentation other = Augmentation.parse("crop:1,hflip");
            for (Object[] c : new Object[][] {{augmented, Augmentation.NONE}, {augmented, other}, {plain, AUGMENT}}) {
                try (Sequential m = TrainingCases.imageNet(backend, DType.FLOAT64, 26)) {
                    double[] before = m.parameters().values().iterator().next().value().toDoubleArray();
                    Trainer t = trainer(m, (Augmentation) c[1]);
                    ModelFileException e = assertThrows(ModelFileException.class,
                            () -> t.restoreCheckpoint((Path) c[0]));
                    assertTrue(e.getMessage().contains("augmentation"), e.getMessage());
                    assertEquals(0, t.epoch());
                    assertArrayEquals(before, m.parameters().values().iterator().next().value().toDoubleArray());
                }
            }
            try (Sequential m = TrainingCases.imageNet(backend, DType.FLOAT64, 26)) {
                trainer(m, AUGMENT).restoreCheckpoint(augmented);
                trainer(m, Augmentation.NONE).restoreCheckpoint(plain);
            }
            // A checkpoint is untrusted input: a bad value is named on one line.
            second.saveCheckpoint(plain, Map.of(Augmentation.METADATA_KEY, "crop:2\nhflip:7"));
            try (Sequential m = TrainingCases.imageNet(backend, DType.FLOAT64, 26)) {
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> trainer(m, Augmentation.NONE).restoreCheckpoint(plain));
                assertTrue(e.getMessage().contains("metadata backprop.augmentation: not an augmentation"),
                        e.getMessage());
                assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            }
        } finally {
            Files.deleteIfExists(augmented);
            Files.deleteIfExists(plain);
        }
    }

    @Test
    void refusesAugmentingFlatExamplesAndMismatchedLoaders() {
        Dataset flat = ModelFixtures.classification(10, 3, 4, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(flat, backend, DType.FLOAT32, 4, AUGMENT, 0));
        assertEquals("augmentation takes images [C, H, W] or [H, W], not examples of shape [3]", e.getMessage());
        Dataset data = TrainingCases.images(10, 3);
        try (Sequential m = TrainingCases.imageNet(backend, DType.FLOAT32, 1);
             BatchLoader plain = new BatchLoader(data, backend, 8);
             BatchLoader other = new BatchLoader(data, backend, DType.FLOAT32, 8, AUGMENT, 5)) {
            e = assertThrows(IllegalArgumentException.class, () -> trainer(m, AUGMENT).fit(plain, null, 1, null));
            // A plain loader has no seed of draws to name.
            assertEquals("the loader augments with none, this trainer with crop:2,hflip:0.5 (seed 23)",
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> trainer(m, Augmentation.NONE).fit(other, null, 1,
                    null));
            assertEquals("the loader augments with crop:2,hflip:0.5 (seed 5), this trainer with none", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> trainer(m, AUGMENT).fit(other, null, 1, null));
            assertTrue(e.getMessage().contains("(seed 5), this trainer with crop:2,hflip:0.5 (seed 23)"),
                    e.getMessage());
        }
    }

    private static Trainer trainer(Sequential m, Augmentation augmentation) {
        return Trainer.builder(m, new SoftmaxCrossEntropy(), Adam.adam(m.parameters(), 0.01)).batchSize(8).seed(23)
                .augmentation(augmentation).build();
    }
}
