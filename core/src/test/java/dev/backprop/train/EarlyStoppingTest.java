package dev.backprop.train;

import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.backprop.testing.Blobs.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Early stopping: its judgement on scripted sequences of validation values, and on a real run, which stops early
 * and ends holding exactly the weights of a run that trained for the best epoch's count; its copies are freed.
 */
class EarlyStoppingTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    private Sequential net(long seed) {
        return Sequential.builder(backend, DType.FLOAT32).seed(seed).dense(2, 5).relu().dense(5, 3).build();
    }

    /** A policy fed {@code values} for epochs 1, 2, ...; returns the epoch it stopped at, or 0. */
    private static int script(EarlyStopping es, double... values) {
        for (int i = 0; i < values.length; i++) {
            es.observe(i + 1, values[i]);
            if (es.stopped()) {
                return i + 1;
            }
        }
        return 0;
    }

    private EarlyStopping policy(EarlyStopping.Monitor monitor, int patience, double minDelta) {
        try (Sequential m = net(1); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Trainer t = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).build();
            return new EarlyStopping(t, monitor, patience, minDelta, false);
        }
    }

    @Test
    void improvementsResetThePatienceAndAPlateauStops() {
        EarlyStopping es = policy(EarlyStopping.Monitor.LOSS, 2, 0);
        assertEquals(0, script(es, 1.0, 0.9, 0.95, 0.8, 0.8));
        assertEquals(new EarlyStopping.State(4, 0.8, 1), es.state());
        assertEquals(6, script(policy(EarlyStopping.Monitor.LOSS, 2, 0), 1.0, 0.9, 0.95, 0.8, 0.8, 0.85));
        assertEquals(1 + 3, script(policy(EarlyStopping.Monitor.LOSS, 3, 0), 0.5, 0.5, 0.6, 0.7));
    }

    @Test
    void minDeltaIgnoresSmallImprovements() {
        EarlyStopping es = policy(EarlyStopping.Monitor.LOSS, 2, 0.05);
        assertEquals(3, script(es, 1.0, 0.96, 0.951, 0.90));
        assertEquals(new EarlyStopping.State(1, 1.0, 2), es.state());
        EarlyStopping just = policy(EarlyStopping.Monitor.LOSS, 2, 0.05);
        assertEquals(0, script(just, 1.0, 0.94, 0.88));
        assertEquals(3, just.state().bestEpoch());
    }

    @Test
    void aNaNValueNeverImproves() {
        EarlyStopping es = policy(EarlyStopping.Monitor.LOSS, 2, 0);
        assertEquals(0, script(es, Double.NaN));
        assertEquals(new EarlyStopping.State(0, Double.NaN, 1), es.state());
        es.observe(2, 0.7);
        assertEquals(new EarlyStopping.State(2, 0.7, 0), es.state());
        es.observe(3, Double.NaN);
        es.observe(4, Double.NaN);
        assertTrue(es.stopped());
        assertEquals(new EarlyStopping.State(2, 0.7, 2), es.state());
    }

    @Test
    void accuracyImprovesUpwards() {
        EarlyStopping es = policy(EarlyStopping.Monitor.ACCURACY, 2, 0.01);
        assertEquals(6, script(es, 0.5, 0.6, 0.605, 0.7, 0.65, 0.71));
        assertEquals(new EarlyStopping.State(4, 0.7, 2), es.state());
    }

    @Test
    void resumeContinuesTheCount() {
        EarlyStopping whole = policy(EarlyStopping.Monitor.LOSS, 3, 0);
        int stop = script(whole, 1.0, 0.8, 0.9, 0.85, 0.95);
        EarlyStopping first = policy(EarlyStopping.Monitor.LOSS, 3, 0);
        script(first, 1.0, 0.8, 0.9);
        EarlyStopping second = policy(EarlyStopping.Monitor.LOSS, 3, 0);
        second.resume(first.state());
        second.observe(4, 0.85);
        second.observe(5, 0.95);
        assertEquals(5, stop);
        assertTrue(second.stopped());
        assertEquals(whole.state(), second.state());
        assertThrows(IllegalArgumentException.class, () -> second.resume(new EarlyStopping.State(2, Double.NaN, 0)));
    }

    @Test
    void badSettingsAreRefusedNamingTheValue() {
        try (Sequential m = net(1); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Trainer t = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).build();
            var loss = EarlyStopping.Monitor.LOSS;
            assertEquals("patience must be at least 1 epoch, got 0", assertThrows(IllegalArgumentException.class,
                    () -> new EarlyStopping(t, loss, 0, 0, true)).getMessage());
            assertEquals("min delta must be finite and >= 0, got -0.1", assertThrows(IllegalArgumentException.class,
                    () -> new EarlyStopping(t, loss, 1, -0.1, true)).getMessage());
            assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(t, loss, 1, Double.NaN, true));
            EarlyStopping es = new EarlyStopping(t, loss, 1, 0, true);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> t.fit(blobs(12, 1), null, 1, es));
            assertTrue(e.getMessage().contains("needs a validation set"), e.getMessage());
        }
    }

    private static Map<String, double[]> weights(Sequential m) {
        Map<String, double[]> w = new LinkedHashMap<>();
        m.parameters().forEach((k, v) -> w.put(k, v.value().toDoubles()));
        return w;
    }

    private Trainer trainer(Sequential m, Adam opt) {
        return Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(8).seed(3).build();
    }

    @Test
    void stopsEarlyAndKeepsTheBestEpochsWeightsExactly() {
        Dataset train = blobs(60, 1);
        Dataset validation = blobs(30, 2);
        int best;
        int ran;
        Map<String, double[]> kept;
        List<Map<String, Tensor>> copies = new ArrayList<>();
        try (Sequential m = net(4); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 2, 0.01, true);
            ran = t.fit(train, validation, 60, es.andThen(x -> copies.add(es.bestWeights()))).size();
            assertTrue(es.stopped());
            best = es.state().bestEpoch();
            assertTrue(best < ran && ran < 60, "stopped at epoch " + ran + ", best " + best);
            kept = weights(m);
        }
        assertTrue(copies.stream().flatMap(c -> c.values().stream()).allMatch(Tensor::isClosed),
                "the best weights' copies are freed when fit ends");
        try (Sequential m = net(4); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            trainer(m, opt).fit(train, validation, best, null);
            Map<String, double[]> exact = weights(m);
            kept.forEach((k, v) -> assertArrayEquals(exact.get(k), v, k));
        }
    }

    @Test
    void aFailedRunFreesTheCopiesAndLeavesTheModel() {
        try (Sequential m = net(5); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            t.fit(blobs(24, 1), null, 1, null);
            long live = backend.memoryStats().liveBuffers();
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.ACCURACY, 5, 0, true);
            List<Map<String, Tensor>> copies = new ArrayList<>();
            List<Map<String, double[]>> atFailure = new ArrayList<>();
            EpochListener failing = es.andThen(x -> {
                copies.add(es.bestWeights());
                if (x.epoch() == 3) {
                    atFailure.add(weights(m));
                    throw new IllegalStateException("disk full");
                }
            });
            assertThrows(IllegalStateException.class, () -> t.fit(blobs(24, 1), blobs(12, 2), 5, failing));
            assertFalse(copies.get(0).isEmpty());
            assertTrue(copies.stream().flatMap(c -> c.values().stream()).allMatch(Tensor::isClosed));
            assertEquals(live, backend.memoryStats().liveBuffers(), "no buffer outlives the run");
            weights(m).forEach((k, v) -> assertArrayEquals(atFailure.get(0).get(k), v, "left as it failed: " + k));
        }
    }

    /**
     * A watch resumed from a checkpoint, with the best weights it keeps, ends with the weights of a run that never
     * stopped: the checkpoint carries the kept tensors beside the model's, and loading it is not confused by them.
     */
    @Test
    void aCheckpointCarriesTheWatchAndTheBestWeights(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        Dataset train = blobs(60, 1);
        Dataset validation = blobs(30, 2);
        java.nio.file.Path ck = dir.resolve("ck.safetensors");
        Map<String, double[]> straight;
        EarlyStopping.State end;
        try (Sequential m = net(6); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 3, 0.01, true);
            t.fit(train, validation, 30, es);
            straight = weights(m);
            end = es.state();
        }
        int at = end.bestEpoch() + 1;
        EarlyStopping.State saved;
        try (Sequential m = net(6); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 3, 0.01, true);
            t.fit(train, validation, at, es.andThen(x -> {
                if (x.epoch() == at) {
                    try {
                        t.saveCheckpoint(ck, Map.of(), es.bestWeights());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }));
            saved = es.state();
        }
        try (Sequential m = net(9); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            t.restoreCheckpoint(ck);
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 3, 0.01, true);
            try (dev.backprop.io.SafeTensorsFile f = dev.backprop.io.SafeTensorsFile.open(ck)) {
                Map<String, Tensor> kept = dev.backprop.io.Checkpoint.readKept(f, m);
                assertEquals(m.parameters().keySet(), kept.keySet());
                es.resume(saved, kept, Map.of());
                kept.values().forEach(Tensor::close);
            }
            t.fit(train, validation, 30 - at, es);
            assertEquals(end, es.state());
            straight.forEach((k, v) -> assertArrayEquals(v, weights(m).get(k), k));
        }
    }

    /** Best weights of another shape or dtype than the model's are refused on resume, not copied at fit's end. */
    @Test
    void resumeRefusesBestWeightsThatDoNotFitTheModel() {
        try (Sequential m = net(7); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            EarlyStopping es = new EarlyStopping(trainer(m, opt), EarlyStopping.Monitor.LOSS, 3, 0, true);
            EarlyStopping.State saved = new EarlyStopping.State(2, 0.5, 1);
            for (boolean shape : new boolean[] {true, false}) {
                Map<String, Tensor> bad = new LinkedHashMap<>();
                m.parameters().forEach((k, v) -> bad.put(k, v.value().copy()));
                bad.get("2.bias").close();
                bad.put("2.bias", shape ? Tensor.zeros(backend, DType.FLOAT32, 4)
                        : Tensor.zeros(backend, DType.FLOAT64, 3));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> es.resume(saved, bad, Map.of()));
                assertTrue(e.getMessage().contains("'2.bias'") && e.getMessage().contains(shape ? "[4]" : "FLOAT64"),
                        e.getMessage());
                assertTrue(es.bestWeights().isEmpty(), "nothing half-kept");
                assertEquals(new EarlyStopping.State(0, Double.NaN, 0), es.state(), "the watch left as it was");
                bad.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * A resumed watch's copies are freed when fit throws before its first epoch, and put back when it has no epoch
     * to run: fit ends either way.
     */
    @Test
    void fitEndsTheWatchOnEveryPath() {
        try (Sequential m = net(8); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            long live = backend.memoryStats().liveBuffers();
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 3, 0, true);
            Map<String, Tensor> best = new LinkedHashMap<>();
            m.parameters().forEach((k, v) -> best.put(k, Tensor.full(backend, DType.FLOAT32, 0.25, v.shape().dims())));
            es.resume(new EarlyStopping.State(2, 0.5, 1), best, Map.of());
            t.fit(blobs(24, 1), blobs(12, 2), 0, es);
            assertTrue(es.bestWeights().isEmpty(), "freed when fit has no epoch to run");
            weights(m).forEach((k, v) -> assertEquals(0.25, v[0], "the best weights put back: " + k));

            EarlyStopping failing = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 3, 0, true);
            failing.resume(new EarlyStopping.State(2, 0.5, 1), best, Map.of());
            best.values().forEach(Tensor::close);
            assertThrows(IllegalArgumentException.class, () -> t.fit(blobs(24, 1), blobs(12, 2), -1, failing));
            assertTrue(failing.bestWeights().isEmpty(), "freed when fit refuses its arguments");
            assertEquals(live, backend.memoryStats().liveBuffers(), "no buffer outlives the runs");
        }
    }

    /**
     * A watch resumed where it had stopped its run trains nothing more: fit returns no epoch and the model ends with
     * the stopped run's best weights; the fit after it trains again.
     */
    @Test
    void aResumedStoppedWatchTrainsNoFurtherAndPutsTheBestWeightsBack() {
        Dataset train = blobs(60, 1);
        Dataset validation = blobs(30, 2);
        Map<String, double[]> best;
        EarlyStopping.State end;
        Map<String, Tensor> kept = new LinkedHashMap<>();
        try (Sequential m = net(10); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 2, 0.01, true);
            t.fit(train, validation, 60, es.andThen(x -> {
                if (es.stopped()) {
                    es.bestWeights().forEach((k, v) -> kept.put(k, v.copy()));
                }
            }));
            assertTrue(es.stopped());
            best = weights(m);
            end = es.state();
        }
        try (Sequential m = net(11); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer t = trainer(m, opt);
            EarlyStopping es = new EarlyStopping(t, EarlyStopping.Monitor.LOSS, 2, 0.01, true);
            es.resume(end, kept, Map.of());
            kept.values().forEach(Tensor::close);
            assertEquals(List.of(), t.fit(train, validation, 60, es), "no epoch after the stop");
            assertEquals(0, t.epoch());
            assertEquals(end, es.state());
            best.forEach((k, v) -> assertArrayEquals(v, weights(m).get(k), "the best weights put back: " + k));
            assertEquals(1, t.fit(train, validation, 1, null).size(), "the stop ended that fit only");
        }
    }
}
