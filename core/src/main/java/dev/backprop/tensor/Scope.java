package dev.backprop.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Owns every tensor created on the current thread while it is open, and closes them when it closes, except
 * those {@linkplain #keep kept}. Scopes nest; a kept tensor moves to the enclosing scope (or to nobody, when
 * this is the outermost one).
 *
 * <pre>{@code
 * Tensor result;
 * try (Scope scope = Scope.open()) {
 *     Tensor h = MatMul.matmul(x, w);       // closed with the scope
 *     result = scope.keep(Elementwise.unary(UnaryOp.RELU, h));
 * }
 * }</pre>
 * A scope is confined to the thread that opened it; closing it elsewhere throws. Closing a scope closes the
 * scopes opened inside it that are still open first, innermost first, as nested try-with-resources would have
 * (their later {@link #close()} does nothing), so no tensor outlives the scope it was made under.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Deque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Thread thread = Thread.currentThread();
    private final Map<Tensor, Boolean> owned = new IdentityHashMap<>();
    private final List<Tensor> order = new ArrayList<>();
    private boolean closed;

    private Scope() {
    }

    /**
     * Opens a scope on the current thread.
     *
     * @return the scope; close it to free the tensors made in it
     */
    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    static Scope current() {
        Deque<Scope> d = STACK.get();
        return d.isEmpty() ? null : d.peek();
    }

    static void register(Tensor t) {
        Scope s = current();
        if (s != null) {
            s.add(t);
        }
    }

    private void add(Tensor t) {
        if (owned.put(t, Boolean.TRUE) == null) {
            order.add(t);
        }
    }

    /**
     * Keeps {@code t} alive past this scope: it moves to the enclosing scope, if any. A tensor this scope does
     * not own (made outside it, or already kept) is left where it is. Returns {@code t}.
     *
     * @param t the tensor
     * @return {@code t}
     * @throws IllegalStateException if this scope is closed
     * @throws ClosedTensorException  if {@code t} is closed: keeping it would hand on a tensor that is gone
     */
    public Tensor keep(Tensor t) {
        checkUsable();
        t.checkOpen();
        // Only what this scope owns moves: adopting a caller's tensor would close it with the enclosing scope.
        if (owned.remove(t) != null) {
            order.remove(t);
            Scope parent = parent();
            if (parent != null) {
                parent.add(t);
            }
        }
        return t;
    }

    /**
     * Keeps several tensors (see {@link #keep(Tensor)}): all of them, or none when one is closed.
     *
     * @param tensors the tensors
     * @throws IllegalStateException if this scope is closed
     * @throws ClosedTensorException  if one of the tensors is closed (checked before any is kept)
     */
    public void keepAll(Iterable<Tensor> tensors) {
        checkUsable();
        for (Tensor t : tensors) {
            t.checkOpen();
        }
        for (Tensor t : tensors) {
            keep(t);
        }
    }

    private Scope parent() {
        boolean seen = false;
        for (Scope s : STACK.get()) {
            if (seen) {
                return s;
            }
            seen = s == this;
        }
        return null;
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("this Scope is closed; keep tensors before it closes");
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("scope opened on thread '" + thread.getName()
                    + "' used from thread '" + Thread.currentThread().getName() + "'");
        }
    }

    /**
     * {@return whether this scope is closed} by its own {@link #close()} or by that of a scope enclosing it (a
     * {@link dev.backprop.autograd.Tape} opened inside a closed scope is over).
     */
    public boolean isClosed() {
        return closed;
    }

    /** {@return the number of tensors this scope will close} */
    public int size() {
        return order.size();
    }

    /**
     * Closes the scopes opened inside this one that are still open (innermost first), then every tensor still
     * owned (views first, in reverse creation order), and leaves the scope. The first failure is rethrown after
     * everything has been closed, with each later one attached to it as {@linkplain Throwable#getSuppressed()
     * suppressed}, as try-with-resources attaches the failures of the resources it closes after the first.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        checkUsable();
        RuntimeException first = null;
        Deque<Scope> d = STACK.get();
        // An inner scope left open would keep its tensors, and register new ones, past this scope's end.
        while (!d.isEmpty() && d.peek() != this) {
            try {
                d.peek().close();
            } catch (RuntimeException e) {
                first = failure(first, e);
            }
        }
        closed = true;
        d.remove(this);
        for (int i = order.size() - 1; i >= 0; i--) {
            try {
                order.get(i).close();
            } catch (RuntimeException e) {
                first = failure(first, e);
            }
        }
        order.clear();
        owned.clear();
        if (first != null) {
            throw first;
        }
    }

    /** {@code first}, or {@code e} when there is none yet; a later failure is kept as one of its suppressed. */
    private static RuntimeException failure(RuntimeException first, RuntimeException e) {
        if (first == null) {
            return e;
        }
        if (e != first) {
            first.addSuppressed(e);
        }
        return first;
    }
}
