package dev.backprop.autograd;

/**
 * Suspends recording on the current thread while open (evaluation inside a training step, metrics): ops run
 * on values only and build no graph. Nests; confined to the thread that opened it.
 *
 * <pre>{@code
 * try (NoGrad off = NoGrad.open()) {
 *     Variable prediction = model.forward(x);
 * }
 * }</pre>
 */
public final class NoGrad implements AutoCloseable {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private final Thread thread = Thread.currentThread();
    private boolean closed;

    private NoGrad() {
    }

    /**
     * Starts a no-grad region on this thread.
     *
     * @return the region; close it to end it
     */
    public static NoGrad open() {
        DEPTH.get()[0]++;
        return new NoGrad();
    }

    /** {@return whether a no-grad region is open on this thread} */
    public static boolean isActive() {
        return DEPTH.get()[0] > 0;
    }

    /** Ends the region. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("NoGrad opened on thread '" + thread.getName() + "' closed on '"
                    + Thread.currentThread().getName() + "'");
        }
        closed = true;
        DEPTH.get()[0]--;
    }
}
