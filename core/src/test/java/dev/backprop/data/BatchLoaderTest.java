package dev.backprop.data;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.model.ModelFixtures;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchLoaderTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void loadsTheOrderedExamplesAndKeepsAPartialLastBatch() {
        Dataset d = ModelFixtures.classification(10, 3, 4, 1);
        int[] order = {9, 2, 5, 0, 1, 3, 4, 6, 7, 8};
        try (BatchLoader l = new BatchLoader(d, backend, 4)) {
            assertEquals(3, l.batchesPerEpoch());
            BatchLoader.Batch first = l.load(order, 0, 4);
            assertEquals(4, first.rows());
            assertEquals(DType.INT32, first.targets().dtype());
            float[] want = new float[12];
            d.gatherFeatures(order, 0, 4, want);
            assertArrayEquals(want, first.features().toFloatArray());
            assertArrayEquals(new int[] {d.label(9), d.label(2), d.label(5), d.label(0)}, first.targets().toIntArray());
            BatchLoader.Batch last = l.load(order, 8, 10);
            assertEquals(2, last.rows());
            assertArrayEquals(new int[] {2, 3}, last.features().shape().dims());
            assertArrayEquals(new int[] {2}, last.targets().shape().dims());
            float[] tail = new float[6];
            d.gatherFeatures(order, 8, 10, tail);
            assertArrayEquals(tail, last.features().toFloatArray());
            assertSame(first.features().buffer(), last.features().buffer(), "the device buffers are reused");
        }
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    /**
     * The batch tensors are reused, so loading a second batch on a tape overwrites the input that the first forward
     * pass saved (PyTorch's {@code DataLoader} hands out new tensors, so there it stays): the backward pass through
     * the first is refused, for a data set on the host (an upload) as on the device (a gather), rather than giving
     * the gradient at the second batch's inputs.
     */
    @Test
    void aSecondBatchOnOneTapeRefusesTheBackwardPassThroughTheFirst() {
        Dataset d = ModelFixtures.classification(10, 3, 4, 1);
        int[] order = d.identityOrder();
        for (BatchLoader.Placement p : List.of(BatchLoader.Placement.HOST, BatchLoader.Placement.DEVICE)) {
            try (BatchLoader l = new BatchLoader(d, backend, 4, p);
                 Variable w = Variable.leaf(Tensor.full(backend, DType.FLOAT32, 0.5, 2, 3));
                 Tape tape = Tape.open()) {
                Variable first = Ops.sum(Ops.linear(Variable.constant(l.load(order, 0, 4).features()), w, null));
                first.backward();
                l.load(order, 4, 8);
                IllegalStateException e = assertThrows(IllegalStateException.class, first::backward, p.name());
                assertTrue(e.getMessage().contains("'linear'") && e.getMessage().contains("written in place"),
                        e.getMessage());
            }
        }
    }

    /**
     * A batch size past the data set gives one batch of it all, as a PyTorch {@code DataLoader}'s: the loader
     * allocates the data set's rows, not the batch size's (2^31 - 1 rows would not fit), and counts one batch.
     */
    @Test
    void aBatchSizePastTheDataSetLoadsItAllAsOneBatch() {
        Dataset d = ModelFixtures.classification(10, 3, 4, 1);
        int[] order = {9, 2, 5, 0, 1, 3, 4, 6, 7, 8};
        long wholeSet;
        try (BatchLoader l = new BatchLoader(d, backend, 10)) {
            assertEquals(1, l.batchesPerEpoch());
            wholeSet = backend.memoryStats().liveBytes();
        }
        for (int batchSize : new int[] {10, 11, Integer.MAX_VALUE}) {
            try (BatchLoader l = new BatchLoader(d, backend, batchSize)) {
                assertEquals(1, l.batchesPerEpoch(), "batch size " + batchSize);
                assertEquals(wholeSet, backend.memoryStats().liveBytes(), "batch size " + batchSize);
                BatchLoader.Batch all = l.load(order, 0, 10);
                float[] want = new float[30];
                d.gatherFeatures(order, 0, 10, want);
                assertArrayEquals(want, all.features().toFloatArray());
                assertEquals(10, all.targets().toIntArray().length);
                assertThrows(IllegalArgumentException.class, () -> l.load(new int[11], 0, 11));
            }
        }
    }

    /** ceil(examples / batchSize), worked by hand, up to a batch size whose {@code n + B - 1} overflows an int. */
    @Test
    void countsBatchesWithoutOverflow() {
        assertEquals(0, BatchLoader.batchesPerEpoch(0, 4));
        assertEquals(3, BatchLoader.batchesPerEpoch(10, 4));
        assertEquals(2, BatchLoader.batchesPerEpoch(8, 4));
        assertEquals(1, BatchLoader.batchesPerEpoch(10, Integer.MAX_VALUE));
        assertEquals(Integer.MAX_VALUE, BatchLoader.batchesPerEpoch(Integer.MAX_VALUE, 1));
        assertEquals(1, BatchLoader.batchesPerEpoch(Integer.MAX_VALUE, Integer.MAX_VALUE));
        assertEquals("batches of 0 from 10 examples: need at least 0 examples and a batch size of at least 1",
                assertThrows(IllegalArgumentException.class, () -> BatchLoader.batchesPerEpoch(10, 0)).getMessage());
    }

    @Test
    void realTargetsComeAsAFloatMatrix() {
        Dataset d = ModelFixtures.regression(5, 2, 3, 4);
        try (BatchLoader l = new BatchLoader(d, backend, 5)) {
            BatchLoader.Batch b = l.load(d.identityOrder(), 1, 3);
            assertArrayEquals(new int[] {2, 3}, b.targets().shape().dims());
            float[] want = new float[6];
            d.gatherTargets(d.identityOrder(), 1, 3, want);
            assertArrayEquals(want, b.targets().toFloatArray());
        }
    }

    @Test
    void rangesThatDoNotFitAreRejected() {
        Dataset d = ModelFixtures.classification(6, 2, 2, 1);
        try (BatchLoader l = new BatchLoader(d, backend, 4)) {
            int[] o = d.identityOrder();
            assertThrows(IllegalArgumentException.class, () -> l.load(o, 0, 5));
            assertThrows(IllegalArgumentException.class, () -> l.load(o, 3, 3));
            assertThrows(IllegalArgumentException.class, () -> l.load(o, 4, 7));
        }
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, backend, 0));
    }

    @Test
    void deviceResidentDataGivesTheSameBatchesAsHostGathering() {
        Dataset d = ModelFixtures.classification(23, 5, 3, 2);
        int[] order = d.identityOrder();
        Dataset.shuffle(order, new java.util.Random(4));
        order[3] = order[9]; // a repeated example is allowed
        try (BatchLoader host = new BatchLoader(d, backend, 8);
             BatchLoader device = new BatchLoader(d, backend, 8, BatchLoader.Placement.DEVICE)) {
            assertFalse(host.resident());
            assertTrue(device.resident());
            for (int from = 0; from < d.size(); from += 8) {
                int to = Math.min(d.size(), from + 8);
                BatchLoader.Batch h = host.load(order, from, to), g = device.load(order, from, to);
                assertEquals(h.rows(), g.rows());
                assertArrayEquals(h.features().shape().dims(), g.features().shape().dims());
                assertArrayEquals(h.features().toFloatArray(), g.features().toFloatArray(), "features from " + from);
                assertArrayEquals(h.targets().toIntArray(), g.targets().toIntArray(), "labels from " + from);
            }
        }
        assertEquals(0, backend.memoryStats().liveBuffers(), "both loaders freed everything");
    }

    /** A held-out part is a view: uploaded whole to the device, it must give the batches of its compact copy. */
    @Test
    void aViewOnTheDeviceGivesTheBatchesOfItsCopy() {
        Dataset all = ModelFixtures.classification(23, 5, 3, 2);
        Dataset view = HoldOut.split(all, 0.3, 6)[0], copy = HoldOut.select(view, view.identityOrder());
        int[] order = view.identityOrder();
        Dataset.shuffle(order, new java.util.Random(4));
        try (BatchLoader host = new BatchLoader(copy, backend, 8);
             BatchLoader device = new BatchLoader(view, backend, 8, BatchLoader.Placement.DEVICE)) {
            for (int from = 0; from < view.size(); from += 8) {
                int to = Math.min(view.size(), from + 8);
                BatchLoader.Batch h = host.load(order, from, to), g = device.load(order, from, to);
                assertArrayEquals(h.features().toFloatArray(), g.features().toFloatArray(), "features from " + from);
                assertArrayEquals(h.targets().toIntArray(), g.targets().toIntArray(), "labels from " + from);
            }
        }
    }

    @Test
    void aStagedBatchIsGatheredAgainByEveryGatherOfItsRows() {
        Dataset d = ModelFixtures.classification(11, 3, 3, 5);
        int[] order = {10, 2, 7, 7, 0, 5, 9, 1, 3, 4, 8};
        try (BatchLoader l = new BatchLoader(d, backend, 4, BatchLoader.Placement.DEVICE)) {
            assertEquals(List.of(3L * 4, 4L, 4L, 11L * 3, 11L), l.tensors().stream().map(t -> t.size()).toList(),
                    "features, labels, indices and the data set's features and labels");
            assertEquals(3, l.stage(order, 8, 11));
            float[] want = new float[9];
            d.gatherFeatures(order, 8, 11, want);
            BatchLoader.Batch b = l.gather(3);
            Elementwise.fill(b.features(), 0.0);
            assertArrayEquals(want, l.gather(3).features().toFloatArray(), "a second gather of the staged rows");
            assertThrows(IllegalArgumentException.class, () -> l.gather(5));
            assertThrows(IllegalArgumentException.class, () -> l.gather(0));
        }
        try (BatchLoader l = new BatchLoader(d, backend, 4)) {
            assertEquals(2, l.tensors().size(), "a host loader has the batch's tensors only");
            assertEquals(4, l.stage(order, 0, 4));
            int[] labels = new int[4];
            d.gatherLabels(order, 0, 4, labels);
            assertArrayEquals(labels, l.gather(4).targets().toIntArray());
        }
    }

    @Test
    void deviceResidentRealTargets() {
        Dataset d = ModelFixtures.regression(9, 2, 3, 4);
        int[] order = {8, 1, 4, 4, 0, 2, 7, 3, 5};
        try (BatchLoader l = new BatchLoader(d, backend, 4, BatchLoader.Placement.DEVICE)) {
            BatchLoader.Batch b = l.load(order, 5, 9);
            float[] want = new float[12];
            d.gatherTargets(order, 5, 9, want);
            assertArrayEquals(want, b.targets().toFloatArray());
            float[] features = new float[8];
            d.gatherFeatures(order, 5, 9, features);
            assertArrayEquals(features, b.features().toFloatArray());
        }
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void deviceResidentLoaderRejectsAnIndexOutsideTheDataSet() {
        Dataset d = ModelFixtures.classification(6, 2, 2, 1);
        try (BatchLoader l = new BatchLoader(d, backend, 4, BatchLoader.Placement.DEVICE)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> l.load(new int[] {0, 6, 1}, 0, 3));
            assertTrue(e.getMessage().contains("order[1] = 6"), e.getMessage());
        }
    }

    @Test
    void automaticPlacementKeepsDataOnTheHostForAHostBackend() {
        Dataset d = ModelFixtures.classification(6, 2, 2, 1);
        try (BatchLoader l = new BatchLoader(d, backend, 4, BatchLoader.Placement.AUTO)) {
            assertFalse(l.resident(), "the reference backend computes on the host");
        }
    }

    /** The reference backend posing as a 1 GiB GPU that runs out of memory above {@code limit} elements. */
    private dev.backprop.backend.Backend smallGpu(long limit) {
        return (dev.backprop.backend.Backend) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {dev.backprop.backend.Backend.class}, (p, m, a) -> {
                    if (m.getName().equals("device")) {
                        return new dev.backprop.backend.DeviceInfo("test GPU", dev.backprop.backend.DeviceType.GPU,
                                1L << 30, java.util.Map.of());
                    }
                    if (m.getName().equals("allocate") && (long) a[1] > limit) {
                        throw new dev.backprop.backend.DeviceOutOfMemoryException("test: " + a[1] + " elements");
                    }
                    try {
                        return m.invoke(backend, a);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void automaticPlacementUsesAGpuAndFallsBackToTheHostWhenItIsFull() {
        Dataset d = ModelFixtures.classification(40, 3, 2, 5);
        int[] order = d.identityOrder();
        try (BatchLoader roomy = new BatchLoader(d, smallGpu(1000), 8, BatchLoader.Placement.AUTO)) {
            assertTrue(roomy.resident(), "a small data set goes to a GPU");
        }
        try (BatchLoader full = new BatchLoader(d, smallGpu(100), 8, BatchLoader.Placement.AUTO)) {
            assertFalse(full.resident(), "the data set did not fit: batches are gathered on the host");
            float[] want = new float[24];
            d.gatherFeatures(order, 8, 16, want);
            assertArrayEquals(want, full.load(order, 8, 16).features().toFloatArray());
        }
        assertThrows(dev.backprop.backend.DeviceOutOfMemoryException.class,
                () -> new BatchLoader(d, smallGpu(100), 8, BatchLoader.Placement.DEVICE));
        assertEquals(0, backend.memoryStats().liveBuffers(),
                "nothing left behind, the failed loader's tensors included");
    }

    /** A FLOAT64 loader serves the same values converted, and image-shaped examples keep their shape. */
    @Test
    void float64BatchesAndImageShapedFeatures() {
        float[] x = new float[5 * 6];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.37f - 4.1f;
        }
        float[] y = {0.5f, -1.25f, 3f, 7.75f, -0.1f};
        Dataset images = Dataset.regression(x, new int[] {2, 3}, y, 1);
        int[] order = {4, 0, 3, 1, 2};
        try (BatchLoader l = new BatchLoader(images, backend, DType.FLOAT64, 3, BatchLoader.Placement.AUTO)) {
            assertFalse(l.resident(), "FLOAT64 data stays on the host");
            BatchLoader.Batch b = l.load(order, 3, 5);
            assertArrayEquals(new int[] {2, 2, 3}, b.features().shape().dims());
            assertEquals(DType.FLOAT64, b.features().dtype());
            assertEquals(DType.FLOAT64, b.targets().dtype());
            float[] f = new float[12];
            images.gatherFeatures(order, 3, 5, f);
            double[] want = new double[12];
            for (int i = 0; i < 12; i++) {
                want[i] = f[i];
            }
            assertArrayEquals(want, b.features().toDoubles());
            assertArrayEquals(new double[] {-1.25, 3}, b.targets().toDoubles());
        }
        try (BatchLoader flat = new BatchLoader(images.flatten(), backend, 3)) {
            assertArrayEquals(new int[] {3, 6}, flat.load(order, 0, 3).features().shape().dims());
        }
        assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(images, backend, DType.FLOAT64, 3, BatchLoader.Placement.DEVICE));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(images, backend, DType.INT32, 3, BatchLoader.Placement.HOST));
        assertEquals(0, backend.memoryStats().liveBuffers());
    }
}
