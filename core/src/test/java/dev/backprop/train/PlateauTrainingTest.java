package dev.backprop.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.optim.Sgd;
import dev.backprop.optim.StepLR;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.testing.FileBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static dev.backprop.testing.Blobs.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A trainer driving ReduceLROnPlateau: the rates it sets from the validation results, a resumed run that equals
 * the uninterrupted one bit for bit, and the settings and checkpoints it refuses.
 */
class PlateauTrainingTest {
    private final ReferenceBackend backend = new ReferenceBackend();
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private Sequential net(long seed) {
        return Sequential.builder(backend, DType.FLOAT32).seed(seed).dense(2, 5).relu().dense(5, 3).build();
    }

    private static ReduceLROnPlateau plateau(Sgd opt, ReduceLROnPlateau.Mode mode, int patience, double threshold) {
        return new ReduceLROnPlateau(opt, mode, 0.5, patience, threshold, ReduceLROnPlateau.ThresholdMode.ABS, 1, 0,
                1e-8);
    }

    private static Trainer trainer(Sequential m, Sgd opt, ReduceLROnPlateau p, EarlyStopping.Monitor monitor) {
        return Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(8).seed(3).plateau(p, monitor).build();
    }

    @Test
    void eachEpochsRateIsTheSchedulersStepOnTheValidationValueBefore() {
        Dataset data = blobs(40, 2), val = blobs(20, 5);
        try (Sequential m = net(1); Sgd opt = new Sgd(m.parameters(), 0.2); Sequential n = net(1);
             Sgd replayOpt = new Sgd(n.parameters(), 0.2)) {
            List<EpochMetrics> all = trainer(m, opt, plateau(opt, ReduceLROnPlateau.Mode.MIN, 0, 1.0),
                    EarlyStopping.Monitor.LOSS).fit(data, val, 5, null);
            // No epoch lowers the loss by the absolute threshold 1 after the first: with patience 0 and cooldown 1,
            // the rate halves after epochs 2 and 4 (epoch 3 is in cooldown).
            assertArrayEquals(new double[] {0.2, 0.2, 0.1, 0.1, 0.05},
                    all.stream().mapToDouble(EpochMetrics::learningRate).toArray());
            ReduceLROnPlateau replay = plateau(replayOpt, ReduceLROnPlateau.Mode.MIN, 0, 1.0);
            for (EpochMetrics e : all) {
                assertEquals(replayOpt.learningRate(), e.learningRate());
                replay.step(e.validation().loss());
            }
            assertEquals(replayOpt.learningRate(), opt.learningRate());
        }
    }

    @Test
    void accuracyIsWatchedInMaxMode() {
        Dataset data = blobs(40, 2), val = blobs(20, 5);
        try (Sequential m = net(1); Sgd opt = new Sgd(m.parameters(), 0.2); Sequential n = net(1);
             Sgd replayOpt = new Sgd(n.parameters(), 0.2)) {
            ReduceLROnPlateau p = plateau(opt, ReduceLROnPlateau.Mode.MAX, 0, 0.05);
            List<EpochMetrics> all = trainer(m, opt, p, EarlyStopping.Monitor.ACCURACY).fit(data, val, 4, null);
            ReduceLROnPlateau replay = plateau(replayOpt, ReduceLROnPlateau.Mode.MAX, 0, 0.05);
            for (EpochMetrics e : all) {
                replay.step(e.validation().accuracy());
            }
            assertEquals(replay.state(), p.state());
            assertEquals(replayOpt.learningRate(), opt.learningRate());
        }
    }

    @Test
    void aResumedRunEqualsTheUninterruptedOneBitForBit() throws IOException {
        Dataset data = blobs(40, 2), val = blobs(20, 5);
        Path straight = dir.resolve("straight.safetensors"), resumed = dir.resolve("resumed.safetensors");
        Path ckpt = dir.resolve("ckpt.safetensors");
        var min = ReduceLROnPlateau.Mode.MIN;
        var loss = EarlyStopping.Monitor.LOSS;
        try (Sequential a = net(1); Sgd oa = new Sgd(a.parameters(), 0.2);
             Sequential b = net(1); Sgd ob = new Sgd(b.parameters(), 0.2);
             Sequential c = net(2); Sgd oc = new Sgd(c.parameters(), 0.2)) {
            // The validation loss falls by 0.26, then 0.19 (less than 0.2: the rate halves after epoch 3, which the
            // checkpoint holds with the cooldown it starts).
            ReduceLROnPlateau pa = plateau(oa, min, 0, 0.2);
            List<EpochMetrics> all = trainer(a, oa, pa, loss).fit(data, val, 6, null);
            ModelFile.save(straight, a);
            Trainer first = trainer(b, ob, plateau(ob, min, 0, 0.2), loss);
            first.fit(data, val, 3, null);
            first.saveCheckpoint(ckpt);
            assertEquals(1, first.plateau().state().cooldownCounter());
            assertEquals(0.1, ob.learningRate());
            ReduceLROnPlateau pc = plateau(oc, min, 0, 0.2);
            Trainer then = trainer(c, oc, pc, loss);
            then.restoreCheckpoint(ckpt);
            assertEquals(first.plateau().state(), pc.state());
            List<EpochMetrics> rest = then.fit(data, val, 3, null);
            ModelFile.save(resumed, c);
            assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed));
            assertEquals(all.subList(3, 6).stream().map(EpochMetrics::learningRate).toList(),
                    rest.stream().map(EpochMetrics::learningRate).toList());
            assertTrue(all.get(5).learningRate() < 0.2, "the run lowers its rate: " + all);
            assertEquals(pa.state(), pc.state());
            assertEquals(oa.learningRate(), oc.learningRate());
        }
    }

    @Test
    void aListenerMayStepItOnItsOwnValidationSetAndTheCheckpointKeepsItsState() throws IOException {
        Dataset data = blobs(40, 2), val = blobs(20, 5), test = blobs(20, 7);
        Path ckpt = dir.resolve("ckpt.safetensors");
        var min = ReduceLROnPlateau.Mode.MIN;
        try (Sequential a = net(1); Sgd oa = new Sgd(a.parameters(), 0.2);
             Sequential b = net(1); Sgd ob = new Sgd(b.parameters(), 0.2);
             Sequential c = net(2); Sgd oc = new Sgd(c.parameters(), 0.2)) {
            // fit's validation set is another (a test set) here; the listener steps on val, as the cli does.
            ReduceLROnPlateau pa = plateau(oa, min, 0, 1.0);
            Trainer ta = trainer(a, oa, pa, null);
            List<EpochMetrics> byListener = ta.fit(data, test, 3, m -> pa.step(ta.evaluate(val).loss()));
            ReduceLROnPlateau pb = plateau(ob, min, 0, 1.0);
            List<EpochMetrics> byFit = trainer(b, ob, pb, EarlyStopping.Monitor.LOSS).fit(data, val, 3, null);
            assertEquals(byFit.stream().map(EpochMetrics::learningRate).toList(),
                    byListener.stream().map(EpochMetrics::learningRate).toList());
            assertEquals(pb.state(), pa.state());
            ta.saveCheckpoint(ckpt);
            ReduceLROnPlateau pc = plateau(oc, min, 0, 1.0);
            String m = assertThrows(ModelFileException.class, () -> trainer(c, oc, pc, EarlyStopping.Monitor.LOSS)
                    .restoreCheckpoint(ckpt)).getMessage();
            assertTrue(m.contains("watched null, this run watches LOSS"), m);
            trainer(c, oc, pc, null).restoreCheckpoint(ckpt);
            assertEquals(pa.state(), pc.state());
            assertEquals(oa.learningRate(), oc.learningRate());
        }
    }

    @Test
    void aCheckpointOfOtherPlateauSettingsIsRefusedAndChangesNothing() throws IOException {
        Dataset data = blobs(16, 2), val = blobs(8, 5);
        Path ckpt = dir.resolve("ckpt.safetensors"), none = dir.resolve("none.safetensors");
        var min = ReduceLROnPlateau.Mode.MIN;
        try (Sequential a = net(1); Sgd oa = new Sgd(a.parameters(), 0.2);
             Sequential c = net(2); Sgd oc = new Sgd(c.parameters(), 0.2)) {
            Trainer first = trainer(a, oa, plateau(oa, min, 1, 0.02), EarlyStopping.Monitor.LOSS);
            first.fit(data, val, 1, null);
            first.saveCheckpoint(ckpt);
            Trainer.builder(a, new SoftmaxCrossEntropy(), oa).batchSize(8).seed(3).build().saveCheckpoint(none);

            ReduceLROnPlateau other = plateau(oc, min, 2, 0.02);
            String m = assertThrows(ModelFileException.class,
                    () -> trainer(c, oc, other, EarlyStopping.Monitor.LOSS).restoreCheckpoint(ckpt)).getMessage();
            assertTrue(m.contains("ReduceLROnPlateau has settings"), m);
            assertEquals(new ReduceLROnPlateau.State(Double.POSITIVE_INFINITY, 0, 0), other.state());
            ReduceLROnPlateau max = plateau(oc, ReduceLROnPlateau.Mode.MAX, 1, 0.02);
            m = assertThrows(ModelFileException.class,
                    () -> trainer(c, oc, max, EarlyStopping.Monitor.ACCURACY).restoreCheckpoint(ckpt)).getMessage();
            assertTrue(m.contains("watched \"LOSS\", this run watches ACCURACY"), m);
            m = assertThrows(ModelFileException.class, () -> trainer(c, oc, plateau(oc, min, 1, 0.02),
                    EarlyStopping.Monitor.LOSS).restoreCheckpoint(none)).getMessage();
            assertTrue(m.contains("trained without ReduceLROnPlateau"), m);
            m = assertThrows(ModelFileException.class, () -> Trainer.builder(c, new SoftmaxCrossEntropy(), oc)
                    .batchSize(8).seed(3).build().restoreCheckpoint(ckpt)).getMessage();
            assertTrue(m.contains("this run has none"), m);
            assertEquals(0.2, oc.learningRate());
        }
    }

    /**
     * The plateau record is untrusted input: a key no writer makes, a best that overflows to infinity (written as
     * the string {@code "Infinity"}), a count that is not an integer or no run reaches, are refused by name before
     * the model, the optimizer or the scheduler changes.
     */
    @Test
    void aTamperedPlateauRecordIsRefusedAndChangesNothing() throws IOException {
        Path ckpt = dir.resolve("ckpt.safetensors"), tampered = dir.resolve("tampered.safetensors");
        var min = ReduceLROnPlateau.Mode.MIN;
        try (Sequential a = net(1); Sgd oa = new Sgd(a.parameters(), 0.2);
             Sequential c = net(2); Sgd oc = new Sgd(c.parameters(), 0.2)) {
            Trainer first = trainer(a, oa, plateau(oa, min, 1, 0.02), EarlyStopping.Monitor.LOSS);
            first.fit(blobs(16, 2), blobs(8, 5), 1, null);
            first.saveCheckpoint(ckpt);
            String saved;
            try (SafeTensorsFile f = SafeTensorsFile.open(ckpt)) {
                saved = f.metadata().get(ReduceLROnPlateau.METADATA_KEY);
            }
            JsonObject record = JsonParser.parseString(saved).getAsJsonObject();
            Map<String, Consumer<JsonObject>> tampers = new LinkedHashMap<>();
            tampers.put("an extra key", o -> o.addProperty("num_reductions", 3));
            tampers.put("a best past the doubles", o -> o.addProperty("best", new BigDecimal("1e999")));
            tampers.put("a fractional count", o -> o.addProperty("bad_epochs", 0.5));
            tampers.put("a count past the patience", o -> o.addProperty("bad_epochs", 2));
            tampers.put("a cooldown past the setting", o -> o.addProperty("cooldown_counter", 2));
            byte[] weights = Files.readAllBytes(ckpt);
            for (Map.Entry<String, Consumer<JsonObject>> t : tampers.entrySet()) {
                JsonObject o = record.deepCopy();
                t.getValue().accept(o);
                Files.write(tampered, withMetadata(weights, ReduceLROnPlateau.METADATA_KEY, o.toString()));
                ReduceLROnPlateau p = plateau(oc, min, 1, 0.02);
                Trainer fresh = trainer(c, oc, p, EarlyStopping.Monitor.LOSS);
                float[] before = c.parameters().values().iterator().next().value().toFloatArray();
                String m = assertThrows(ModelFileException.class, () -> fresh.restoreCheckpoint(tampered),
                        t.getKey()).getMessage();
                assertTrue(m.contains(ReduceLROnPlateau.METADATA_KEY) || m.contains("ReduceLROnPlateau state"),
                        t.getKey() + ": " + m);
                assertEquals(new ReduceLROnPlateau.State(Double.POSITIVE_INFINITY, 0, 0), p.state(), t.getKey());
                assertEquals(0, fresh.epoch(), t.getKey());
                assertEquals(0.2, oc.learningRate(), t.getKey());
                assertArrayEquals(before, c.parameters().values().iterator().next().value().toFloatArray(),
                        t.getKey());
            }
        }
    }

    /** A setting of -0.0, which the checkpoint's JSON reads back as 0.0, still resumes its own run. */
    @Test
    void aNegativeZeroSettingResumes() throws IOException {
        Path ckpt = dir.resolve("ckpt.safetensors");
        var min = ReduceLROnPlateau.Mode.MIN;
        var abs = ReduceLROnPlateau.ThresholdMode.ABS;
        try (Sequential a = net(1); Sgd oa = new Sgd(a.parameters(), 0.2);
             Sequential c = net(2); Sgd oc = new Sgd(c.parameters(), 0.2)) {
            ReduceLROnPlateau p = new ReduceLROnPlateau(oa, min, 0.5, 1, -0.0, abs, 1, -0.0, 1e-8);
            Trainer first = trainer(a, oa, p, EarlyStopping.Monitor.LOSS);
            first.fit(blobs(16, 2), blobs(8, 5), 2, null);
            first.saveCheckpoint(ckpt);
            ReduceLROnPlateau q = new ReduceLROnPlateau(oc, min, 0.5, 1, -0.0, abs, 1, -0.0, 1e-8);
            Trainer then = trainer(c, oc, q, EarlyStopping.Monitor.LOSS);
            then.restoreCheckpoint(ckpt);
            assertEquals(p.state(), q.state());
            assertEquals(2, then.epoch());
        }
    }

    /** The safetensors file {@code file} with metadata entry {@code key} set to {@code value}. */
    private static byte[] withMetadata(byte[] file, String key, String value) {
        int n = (int) ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h = JsonParser.parseString(new String(file, 8, n, StandardCharsets.UTF_8).trim())
                .getAsJsonObject();
        h.getAsJsonObject("__metadata__").addProperty(key, value);
        return FileBytes.file(h.toString(), Arrays.copyOfRange(file, 8 + n, file.length));
    }

    @Test
    void aScheduleBesideItAMismatchedModeAndAMissingValidationSetAreRefused() {
        try (Sequential m = net(1); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            ReduceLROnPlateau p = plateau(opt, ReduceLROnPlateau.Mode.MIN, 1, 0);
            Trainer.Builder both = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).schedule(new StepLR(opt, 2, 0.5))
                    .plateau(p, EarlyStopping.Monitor.LOSS);
            assertEquals("a trainer takes a closed-form schedule (step) or ReduceLROnPlateau, not both: each sets the "
                    + "learning rate", assertThrows(IllegalArgumentException.class, both::build).getMessage());
            assertEquals("ReduceLROnPlateau watching the validation ACCURACY needs mode MAX, got MIN",
                    assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m, new SoftmaxCrossEntropy(),
                            opt).plateau(p, EarlyStopping.Monitor.ACCURACY)).getMessage());
            Trainer t = trainer(m, opt, p, EarlyStopping.Monitor.LOSS);
            assertEquals("ReduceLROnPlateau watches the validation loss: pass a validation set to fit",
                    assertThrows(IllegalArgumentException.class, () -> t.fit(blobs(12, 1), null, 1, null))
                            .getMessage());
            assertEquals(0, t.epoch());
        }
    }
}
