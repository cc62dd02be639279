package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensors on the reference backend: creation, host transfer, views, lifetime and the Cleaner safety net. */
class TensorTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private static float[] seq(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    @Test
    void createAndReadBack() {
        try (Tensor t = Tensor.of(backend, seq(6), 2, 3)) {
            assertEquals(Shape.of(2, 3), t.shape());
            assertEquals(DType.FLOAT32, t.dtype());
            assertSame(backend, t.backend());
            assertArrayEquals(seq(6), t.toFloatArray());
            assertTrue(t.isOwner() && t.isContiguous());
        }
        try (Tensor v = Tensor.of(backend, new int[] {4, -5, 6})) {
            assertEquals(Shape.of(3), v.shape(), "no dimensions: a vector of the data's length");
            assertArrayEquals(new double[] {4, -5, 6}, v.toDoubles());
        }
        try (Tensor d = Tensor.of(backend, new double[] {0.1, 0.2}, 2, 1)) {
            assertArrayEquals(new double[] {0.1, 0.2}, d.toDoubleArray());
        }
        try (Tensor z = Tensor.zeros(backend, DType.INT32, 2, 2);
             Tensor f = Tensor.full(backend, DType.FLOAT64, 2.5, 3)) {
            assertArrayEquals(new int[4], z.toIntArray());
            assertArrayEquals(new double[] {2.5, 2.5, 2.5}, f.toDoubleArray());
        }
    }

    @Test
    void badCreationAndReadBack() {
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> Tensor.of(backend, seq(5), 2, 3));
        assertTrue(e.getMessage().contains("5") && e.getMessage().contains("[2, 3]"), e.getMessage());
        long live = backend.memoryStats().liveBuffers();
        assertThrows(IllegalArgumentException.class, () -> Tensor.full(backend, DType.INT32, 1.5, 2));
        assertEquals(live, backend.memoryStats().liveBuffers(), "a rejected full() allocates nothing");
        try (Tensor t = Tensor.of(backend, seq(4), 4)) {
            assertThrows(DTypeMismatchException.class, t::toIntArray);
            ShapeMismatchException item = assertThrows(ShapeMismatchException.class, t::item);
            assertTrue(item.getMessage().contains("[4]"), item.getMessage());
            assertEquals(3.0, t.rows(3, 4).item());
        }
    }

    @Test
    void float64OnlyWhereSupported() {
        Backend noF64 = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (p, m, a) -> m.getName().equals("capabilities") ? new Capabilities(false, true, Map.of())
                        : invoke(backend, m, a));
        DTypeMismatchException e = assertThrows(DTypeMismatchException.class,
                () -> Tensor.zeros(noF64, DType.FLOAT64, 2));
        assertTrue(e.getMessage().contains("FLOAT64") && e.getMessage().contains("reference"), e.getMessage());
    }

    @Test
    void reshapeIsAViewSharingTheBuffer() {
        try (Tensor t = Tensor.of(backend, seq(12), 3, 4)) {
            Tensor r = t.reshape(2, -1, 3);
            assertEquals(Shape.of(2, 2, 3), r.shape());
            assertSame(t.buffer(), r.buffer(), "no copy");
            assertFalse(r.isOwner());
            Elementwise.fill(r.rows(1, 2), 7);
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 7, 7, 7, 7, 7, 7}, t.toFloatArray(), "writes go through");
            assertEquals(Shape.of(), t.rows(0, 1).reshape(4).rows(2, 3).reshape().shape(), "down to a scalar");
            ShapeMismatchException size = assertThrows(ShapeMismatchException.class, () -> t.reshape(5, -1));
            assertTrue(size.getMessage().contains("[3, 4]") && size.getMessage().contains("[5, -1]"),
                    size.getMessage());
            assertThrows(ShapeMismatchException.class, () -> t.reshape(-1, -1));
            assertThrows(ShapeMismatchException.class, () -> t.reshape(0, -1));
            assertThrows(ShapeMismatchException.class, () -> t.reshape(-2, -6));
            assertThrows(ShapeMismatchException.class, () -> t.block(0, 0, 3, 2).reshape(6));
        }
    }

    @Test
    void rowsAlongTheFirstDimension() {
        try (Tensor t = Tensor.of(backend, seq(24), 4, 3, 2)) {
            Tensor r = t.rows(1, 3);
            assertEquals(Shape.of(2, 3, 2), r.shape());
            assertEquals(6, r.offset());
            assertArrayEquals(new float[] {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, r.toFloatArray());
            assertEquals(0, t.rows(2, 2).size(), "an empty range is allowed");
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> t.rows(3, 5));
            assertTrue(e.getMessage().contains("[4, 3, 2]"), e.getMessage());
            assertThrows(ShapeMismatchException.class, () -> t.rows(2, 1));
        }
    }

    @Test
    void blocksAreStridedViews() {
        try (Tensor t = Tensor.of(backend, seq(20), 4, 5)) {
            Tensor b = t.block(1, 2, 2, 3);
            assertEquals(Shape.of(2, 3), b.shape());
            assertEquals(7, b.offset());
            assertEquals(5, b.rowStride());
            assertFalse(b.isContiguous());
            assertArrayEquals(new float[] {7, 8, 9, 12, 13, 14}, b.toFloatArray(), "strided read-back");
            Tensor inner = b.block(1, 1, 1, 2);
            assertEquals(13, inner.offset(), "a block of a block adds offsets with the same stride");
            assertTrue(inner.isContiguous(), "a single row is contiguous");
            assertArrayEquals(new float[] {13, 14}, inner.toFloatArray());
            assertArrayEquals(new float[] {12, 13, 14}, b.rows(1, 2).toFloatArray(), "rows of a strided view");
            assertTrue(t.block(1, 0, 2, 5).isContiguous(), "whole rows are contiguous");
            assertArrayEquals(new float[] {7, 8, 9, 12, 13, 14}, b.copy().toFloatArray(), "copy() compacts");
            assertTrue(b.copy().isContiguous());
            assertThrows(ShapeMismatchException.class, () -> t.block(3, 0, 2, 1));
            assertThrows(ShapeMismatchException.class, () -> t.block(0, 4, 1, 2));
            assertThrows(ShapeMismatchException.class, () -> t.reshape(20).block(0, 0, 1, 1));
        }
    }

    @Test
    void transferBetweenBackends() {
        try (ReferenceBackend other = new ReferenceBackend(); Tensor t = Tensor.of(backend, seq(6), 2, 3)) {
            Tensor moved = t.to(other);
            assertSame(other, moved.backend());
            assertEquals(t.shape(), moved.shape());
            assertArrayEquals(seq(6), moved.toFloatArray());
            Tensor copy = t.copy();
            assertNotSame(t.buffer(), copy.buffer());
            Elementwise.fill(copy, 1);
            assertArrayEquals(seq(6), t.toFloatArray(), "a copy is independent");
            moved.close();
            copy.close();
        }
    }

    @Test
    void aTensorReadAfterItsScopeClosedSaysWhy() {
        Tensor t;
        try (Scope scope = Scope.open()) {
            t = Tensor.of(backend, seq(1), 1);
        }
        ClosedTensorException e = assertThrows(ClosedTensorException.class, t::item);
        assertEquals("tensor [1] FLOAT32 used after close() (a Tape or Scope closes the tensors made while it was "
                + "open: read values before it closes)", e.getMessage());
    }

    @Test
    void operandsOfTwoBackendsOfOneNameAreToldApart() {
        try (ReferenceBackend other = new ReferenceBackend(); Scope scope = Scope.open()) {
            Tensor a = Tensor.of(backend, seq(4), 2, 2);
            Tensor b = Tensor.of(other, seq(4), 2, 2);
            BackendMismatchException e = assertThrows(BackendMismatchException.class, () -> Elementwise.add(a, b));
            assertTrue(e.getMessage().contains("on reference (two separate reference backends: make one and share "
                    + "it); move one with Tensor.to(backend)"), e.getMessage());
        }
    }

    @Test
    void versionCountsFacadeWritesSharedWithViews() {
        // PyTorch: t._version is 0 when made, 1 after t.add_(1), and a view shares its base's counter.
        try (Tensor t = Tensor.of(backend, seq(6), 2, 3); Tensor view = t.reshape(3, 2);
             Tensor other = Tensor.of(backend, seq(6), 2, 3)) {
            assertEquals(0, t.version());
            Elementwise.axpy(1.0, other, t);
            assertEquals(1, t.version(), "axpy wrote t");
            assertEquals(1, view.version(), "a view shares its owner's count");
            assertEquals(0, other.version(), "axpy only read other");
            Elementwise.fill(view, 0.0);
            assertEquals(2, t.version(), "a write through the view counts for the owner");
            try (Tensor wrong = Tensor.zeros(backend, DType.FLOAT32, 4)) {
                assertThrows(ShapeMismatchException.class, () -> Elementwise.axpy(1.0, wrong, t));
            }
            assertEquals(2, t.version(), "a refused write does not count");
            try (Tensor sum = Reductions.sum(t)) {
                assertEquals(2, t.version(), "reading does not count");
                assertEquals(1, sum.version(), "the result was written once");
            }
        }
    }

    @Test
    void closingOwnerClosesViewsNotTheOtherWayRound() {
        Tensor owner = Tensor.of(backend, seq(6), 2, 3);
        Tensor view = owner.rows(0, 1);
        view.close();
        assertTrue(view.isClosed());
        assertFalse(owner.isClosed());
        Tensor other = owner.block(0, 1, 2, 2);
        owner.close();
        owner.close();
        assertTrue(other.isClosed(), "views of a closed owner are closed");
        ClosedTensorException e = assertThrows(ClosedTensorException.class, other::toFloatArray);
        assertTrue(e.getMessage().contains("[2, 2]"), e.getMessage());
        assertThrows(ClosedTensorException.class, owner::buffer);
        assertEquals(0, backend.memoryStats().liveBuffers());
        assertTrue(owner.toString().contains("closed"), owner.toString());
    }

    @Test
    void closedBackendClosesItsTensors() {
        ReferenceBackend b = new ReferenceBackend();
        Tensor t = Tensor.zeros(b, DType.FLOAT32, 3);
        b.close();
        assertTrue(t.isClosed());
        ClosedTensorException e = assertThrows(ClosedTensorException.class, t::toFloatArray);
        assertTrue(e.getMessage().contains("reference"), "names the backend: " + e.getMessage());
        t.close();
    }

    /** Releases per buffer, seen through a proxy of the reference backend. */
    private final Map<Buffer, Integer> releases = new IdentityHashMap<>();

    private Backend counting() {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (p, m, a) -> {
                    if (m.getName().equals("release")) {
                        synchronized (releases) {
                            releases.merge((Buffer) a[0], 1, Integer::sum);
                        }
                    }
                    return invoke(backend, m, a);
                });
    }

    @Test
    void cleanerFreesForgottenTensorsOnce() throws InterruptedException {
        Backend b = counting();
        Buffer closed = closeAndForget(b);
        Buffer forgotten = forget(b);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (backend.memoryStats().liveBuffers() > 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, backend.memoryStats().liveBuffers(), "the Cleaner freed the unreachable, unclosed tensor");
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        synchronized (releases) {
            assertEquals(Set.of(closed, forgotten), releases.keySet());
            assertEquals(1, releases.get(closed), "a closed tensor is never released again by the Cleaner");
            assertEquals(1, releases.get(forgotten), "the Cleaner releases a forgotten tensor exactly once");
        }
    }

    private static Buffer closeAndForget(Backend b) {
        Tensor t = Tensor.zeros(b, DType.FLOAT32, 100);
        Tensor view = t.rows(10, 20);
        Buffer buffer = t.buffer();
        t.close();
        view.close();
        return buffer;
    }

    private static Buffer forget(Backend b) {
        Tensor t = Tensor.zeros(b, DType.FLOAT32, 100);
        return t.rows(0, 50).buffer();
    }

    private static Object invoke(Object target, java.lang.reflect.Method m, Object[] a) throws Throwable {
        try {
            return m.invoke(target, a);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
