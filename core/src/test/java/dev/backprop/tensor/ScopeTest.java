package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScopeTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private Tensor tensor() {
        return Tensor.zeros(backend, DType.FLOAT32, 4);
    }

    @Test
    void closesWhatWasCreatedInside() {
        Tensor outside = tensor();
        Tensor inside;
        Tensor view;
        try (Scope scope = Scope.open()) {
            inside = tensor();
            view = outside.rows(0, 2);
            Reductions.sum(inside);
            assertEquals(3, scope.size(), "inside, the view and the sum's result");
        }
        assertTrue(inside.isClosed());
        assertTrue(view.isClosed(), "a view made inside is closed");
        assertFalse(outside.isClosed(), "a view's closing leaves its owner from outside alone");
        assertEquals(1, backend.memoryStats().liveBuffers());
        outside.close();
    }

    @Test
    void keepMovesToTheEnclosingScope() {
        Tensor kept;
        Tensor inner;
        try (Scope outer = Scope.open()) {
            try (Scope scope = Scope.open()) {
                inner = tensor();
                kept = scope.keep(tensor());
                assertEquals(1, scope.size());
            }
            assertTrue(inner.isClosed());
            assertFalse(kept.isClosed(), "kept past the inner scope");
            assertEquals(1, outer.size(), "now owned by the outer scope");
        }
        assertTrue(kept.isClosed(), "closed with the outer scope");
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void keepInTheOutermostScopeHandsOwnershipToTheCaller() {
        Tensor kept;
        try (Scope scope = Scope.open()) {
            Tensor a = tensor();
            Tensor b = tensor();
            scope.keepAll(List.of(a, b));
            kept = a;
            assertEquals(0, scope.size());
            b.close();
        }
        assertFalse(kept.isClosed());
        kept.close();
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void keepingATensorFromOutsideDoesNotAdoptIt() {
        Tensor callers = tensor();
        try (Scope outer = Scope.open()) {
            try (Scope inner = Scope.open()) {
                assertSame(callers, inner.keep(callers));
            }
            assertEquals(0, outer.size(), "the enclosing scope did not take the caller's tensor");
        }
        assertFalse(callers.isClosed(), "still the caller's to close");
        callers.close();
    }

    @Test
    void closeIsIdempotentAndKeepAfterCloseFails() {
        Scope scope = Scope.open();
        Tensor t = tensor();
        scope.close();
        scope.close();
        assertTrue(t.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> scope.keep(t));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        try (Scope next = Scope.open()) {
            Tensor u = tensor();
            assertEquals(1, next.size(), "a closed scope no longer collects tensors");
            assertSame(u, next.keep(u));
            u.close();
        }
    }

    @Test
    void confinedToItsThread() throws InterruptedException, ExecutionException {
        try (Scope scope = Scope.open()) {
            Tensor t = tensor();
            Tensor fromOtherThread = CompletableFuture.supplyAsync(this::tensor).get();
            assertEquals(1, scope.size(), "tensors made on another thread do not join this thread's scope");
            IllegalStateException keep = CompletableFuture.supplyAsync(
                    () -> assertThrows(IllegalStateException.class, () -> scope.keep(t))).get();
            assertTrue(keep.getMessage().contains("thread"), keep.getMessage());
            IllegalStateException close = CompletableFuture.supplyAsync(
                    () -> assertThrows(IllegalStateException.class, scope::close)).get();
            assertTrue(close.getMessage().contains("thread"), close.getMessage());
            assertFalse(t.isClosed(), "a refused close closed nothing");
            fromOtherThread.close();
        }
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void keepingAClosedTensorIsRefused() {
        // PyTorch has no scopes; the nearest misuse there is reading a freed tensor, which always raises.
        try (Scope outer = Scope.open()) {
            try (Scope scope = Scope.open()) {
                Tensor open = tensor();
                Tensor closed = Tensor.zeros(backend, DType.FLOAT32, 2, 3);
                closed.close();
                ClosedTensorException e = assertThrows(ClosedTensorException.class, () -> scope.keep(closed));
                assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
                ClosedTensorException all = assertThrows(ClosedTensorException.class,
                        () -> scope.keepAll(List.of(open, closed)));
                assertTrue(all.getMessage().contains("[2, 3]"), all.getMessage());
                assertEquals(2, scope.size(), "a refused keepAll kept none of them");
                assertEquals(0, outer.size(), "nothing moved to the enclosing scope");
            }
        }
        assertEquals(0, backend.memoryStats().liveBuffers(), "the refused tensors were freed with their scope");
    }

    @Test
    void closingOneTensorTwiceInAScopeIsHarmless() {
        try (Scope scope = Scope.open()) {
            Tensor t = tensor();
            t.close();
            assertEquals(1, scope.size());
        }
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void closingAnOuterScopeClosesTheInnerOnesFirst() {
        // Nested try-with-resources closes the inner scope before the outer; an outer closed by hand with an inner
        // still open gets the same order (DJL's NDManager closes its children the same way).
        Scope outer = Scope.open();
        Scope middle = Scope.open();
        Tensor kept;
        Tensor inner;
        try (Scope innermost = Scope.open()) {
            inner = tensor();
            kept = innermost.keep(tensor());
            outer.close();
            assertTrue(inner.isClosed(), "the innermost scope's tensor");
            assertTrue(kept.isClosed(), "kept into the middle scope, closed with it");
            assertEquals(0, backend.memoryStats().liveBuffers());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> middle.keep(kept));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        middle.close();
        try (Scope next = Scope.open()) {
            Tensor t = tensor();
            assertEquals(1, next.size(), "the closed inner scopes no longer collect tensors");
        }
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void closingOuterScopesWithInnerOnesOpenLeaksNothing() {
        Tensor first;
        try (Scope warm = Scope.open()) {
            first = tensor();
        }
        assertTrue(first.isClosed());
        long before = backend.memoryStats().liveBuffers();
        for (int i = 0; i < 10_000; i++) {
            Scope outer = Scope.open();
            tensor();
            Scope.open();
            tensor();
            outer.close();
            assertEquals(before, backend.memoryStats().liveBuffers(), "live buffers after misuse " + i);
        }
        try (Scope scope = Scope.open()) {
            tensor();
            assertEquals(1, scope.size(), "no scope from the loop is left on this thread's stack");
        }
        assertEquals(before, backend.memoryStats().liveBuffers());
    }

    @Test
    void laterCloseFailuresAreSuppressedByTheFirst() {
        // As try-with-resources does: the first failure is thrown, each later one is among its suppressed.
        Scope scope = Scope.open();
        Tensor a = failingToClose("a");
        Tensor b = failingToClose("b");
        Tensor c = tensor();
        IllegalStateException e = assertThrows(IllegalStateException.class, scope::close);
        assertEquals("planted: b", e.getMessage(), "tensors close in reverse creation order");
        assertEquals(1, e.getSuppressed().length);
        assertEquals("planted: a", e.getSuppressed()[0].getMessage());
        assertTrue(a.isClosed() && b.isClosed() && c.isClosed(), "every tensor is closed despite the failures");
        assertTrue(scope.isClosed());
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void anInnerScopesFailuresJoinTheOuterScopesFirst() {
        Scope outer = Scope.open();
        failingToClose("outer");
        Scope inner = Scope.open();
        failingToClose("inner 1");
        failingToClose("inner 2");
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertEquals("planted: inner 2", e.getMessage(), "the inner scope closes first");
        assertArrayEquals(new String[]{"planted: inner 1", "planted: outer"},
                Arrays.stream(e.getSuppressed()).map(Throwable::getMessage).toArray(String[]::new));
        assertTrue(inner.isClosed());
    }

    /** A tensor on a stub backend whose buffer throws {@code planted: name} when its close checks it. */
    private static Tensor failingToClose(String name) {
        Buffer buffer = (Buffer) Proxy.newProxyInstance(Buffer.class.getClassLoader(), new Class<?>[]{Buffer.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "dtype" -> DType.FLOAT32;
                    case "size" -> 4L;
                    case "isReleased" -> throw new IllegalStateException("planted: " + name);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        Backend stub = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("allocate")) {
                        return buffer;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        return Tensor.empty(stub, DType.FLOAT32, 4);
    }
}
