package dev.backprop.cpu;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The cpu backend's thread pool: {@code threads - 1} daemon workers plus whichever thread calls an op, so one
 * op never runs on more than {@code threads} cores and the caller is never left idle waiting.
 *
 * <p>Work is cut into chunks that workers and the caller claim from a shared counter. A caller whose helpers are
 * busy with another caller's op simply claims every chunk itself, so concurrent callers cannot deadlock and an
 * op finishes even when the pool is saturated. Ops below their size threshold run on the caller alone: handing
 * work to another thread costs tens of microseconds.
 */
final class CpuThreads implements AutoCloseable {
    /**
     * How long an idle worker, or a caller waiting for its helpers, spins before parking: 50 us covers the gap
     * between the ops of one training step, and is short enough not to take a shared core from other work.
     */
    static final long SPIN_NANOS = 50_000;
    /**
     * Most threads per available processor. An op's chunks are compute-bound, so threads beyond the cores only take
     * turns on them; four per processor leaves room to measure oversubscription, and refuses a count that would
     * start thousands of threads, each with its own stack, from a typo.
     */
    static final int MAX_PER_PROCESSOR = 4;
    /**
     * Threads allowed on any machine, however few processors this JVM sees: a container or {@code taskset} may show
     * one processor to a run that is told it has more (a Spark rank's {@code spark.task.cpus}), or that measures
     * oversubscription, and 64 threads cost little. PyTorch's {@code torch.set_num_threads} takes any positive count.
     */
    static final int MIN_BOUND = 64;
    private final int threads;
    private final ExecutorService pool;

    /** A pool for {@code threads} cores in all (the caller included); {@code threads == 1} starts no thread. */
    CpuThreads(int threads) {
        this.threads = checkCount("backprop.cpu.threads", threads);
        this.pool = threads == 1 ? null : new ThreadPoolExecutor(threads - 1, threads - 1, 0, TimeUnit.SECONDS,
                new SpinningQueue(), new DaemonFactory());
    }

    /**
     * Checks a thread count for this machine: at least 1 and at most {@link #mostFor} the processors this JVM sees.
     *
     * @param name what the count is called in the message ({@code backprop.cpu.threads}, {@code --threads})
     * @return {@code threads}
     * @throws IllegalArgumentException naming {@code name}, the bound and the value when it is outside them
     */
    static int checkCount(String name, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + threads);
        }
        int processors = Runtime.getRuntime().availableProcessors();
        long most = mostFor(processors);
        if (threads > most) {
            throw new IllegalArgumentException(name + " must be at most " + most + " (the larger of " + MIN_BOUND
                    + " and " + MAX_PER_PROCESSOR + " per available processor, " + processors + " here), got "
                    + threads);
        }
        return threads;
    }

    /** The most threads allowed with {@code processors}: the larger of {@link #MIN_BOUND} and 4 each. */
    static long mostFor(int processors) {
        return Math.max(MIN_BOUND, (long) MAX_PER_PROCESSOR * processors);
    }

    /** Cores one op may use, the calling thread included. */
    int threads() {
        return threads;
    }

    /**
     * How many chunks to cut {@code work} units into so each has at least {@code minPerChunk}: between 1 and
     * {@link #threads()}.
     */
    int chunksFor(long work, long minPerChunk) {
        long c = work / Math.max(1, minPerChunk);
        return (int) Math.max(1, Math.min(threads, c));
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i < chunks}, spread over the pool and the calling thread, and
     * returns when all are done. The first exception thrown by a chunk is rethrown here after every chunk has
     * finished, so no chunk is still writing when the caller sees the failure.
     */
    void parallelFor(int chunks, IntConsumer body) {
        if (chunks <= 1 || pool == null) {
            for (int i = 0; i < chunks; i++) {
                body.accept(i);
            }
            return;
        }
        Job job = new Job(chunks, body, Thread.currentThread());
        int helpers = Math.min(threads - 1, chunks - 1);
        for (int h = 0; h < helpers; h++) {
            try {
                pool.execute(job);
            } catch (RejectedExecutionException e) {
                break; // the pool is shutting down: the caller runs the remaining chunks itself
            }
        }
        job.run();
        job.awaitDone();
    }

    /** A piece of a range: elements (or rows) {@code [start, start + length)}. */
    interface Range {
        void run(int start, int length);
    }

    /**
     * Runs {@code body} over {@code [0, n)} cut into at most {@link #threads()} pieces of at least
     * {@code minPerChunk} elements; piece boundaries fall on multiples of {@code align} (a power of two) so
     * vector loops stay aligned to their lanes.
     */
    void parallelRange(int n, long minPerChunk, int align, Range body) {
        int chunks = chunksFor(n, minPerChunk);
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        parallelFor(chunks, c -> {
            int start = bound(c, chunks, n, align), end = bound(c + 1, chunks, n, align);
            if (end > start) {
                body.run(start, end - start);
            }
        });
    }

    /**
     * Runs {@code body} over rows {@code [0, rows)} of a matrix with {@code cols} columns, cut so each piece
     * has at least {@code minPerChunk} elements.
     */
    void parallelRows(int rows, int cols, long minPerChunk, Range body) {
        long perRow = Math.max(1, cols);
        parallelRange(rows, Math.max(1, minPerChunk / perRow), 1, body);
    }

    private static int bound(int c, int chunks, int n, int align) {
        if (c >= chunks) {
            return n;
        }
        return (int) ((long) n * c / chunks) & -align;
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    /** One parallel loop: chunks are claimed from {@code next}; the caller parks until {@code done} is full. */
    private static final class Job implements Runnable {
        private final int chunks;
        private final IntConsumer body;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private volatile Throwable failure;

        Job(int chunks, IntConsumer body, Thread caller) {
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
        }

        @Override
        public void run() {
            int i;
            while ((i = next.getAndIncrement()) < chunks) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                } finally {
                    if (done.incrementAndGet() == chunks) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        void awaitDone() {
            boolean interrupted = false;
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (done.get() < chunks && System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            }
            while (done.get() < chunks) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable t = failure;
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error err) {
                throw err;
            }
            if (t != null) {
                throw new IllegalStateException("cpu: a parallel chunk failed", t);
            }
        }
    }

    /**
     * The workers' queue: an idle worker polls it for {@link #SPIN_NANOS} before blocking, so the next op of a
     * training step (typically tens of microseconds later) finds it awake instead of paying a futex wake-up,
     * which costs as much as a small GEMM's share of work.
     */
    private static final class SpinningQueue extends LinkedBlockingQueue<Runnable> {
        @Override
        public Runnable take() throws InterruptedException {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            do {
                Runnable r = poll();
                if (r != null) {
                    return r;
                }
                Thread.onSpinWait();
            } while (System.nanoTime() < spinUntil && !Thread.currentThread().isInterrupted());
            return super.take();
        }
    }

    private static final class DaemonFactory implements ThreadFactory {
        private static final AtomicInteger POOLS = new AtomicInteger();
        private final int pool = POOLS.incrementAndGet();
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "backprop-cpu-" + pool + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
