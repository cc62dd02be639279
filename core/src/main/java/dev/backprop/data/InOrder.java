package dev.backprop.data;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Runs {@code n} tasks on a few threads and gives their results in task order, failing as running them one after
 * another would: with the exception of the first task, in order, that throws. Once a task fails, the tasks after it
 * are not started (those before it still run, as one of them may fail first). Every thread has ended when
 * {@link #run} returns or throws.
 */
final class InOrder {
    private InOrder() {
    }

    /**
     * Results of {@code task} for {@code 0..n-1}, in that order, computed on {@code threads} threads named
     * {@code name-1..}.
     *
     * @throws RuntimeException the first failing task's exception (an {@link Error} as it is)
     * @throws DataFormatException naming {@code what} when the calling thread is interrupted; its interrupt
     *                             status stays set and the running tasks are interrupted
     */
    static <T> List<T> run(int n, int threads, String name, String what, IntFunction<T> task) {
        AtomicInteger failed = new AtomicInteger(n);
        List<Thread> started = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + (started.size() + 1));
            t.setDaemon(true);
            started.add(t);
            return t;
        });
        try {
            List<Future<T>> futures = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    if (index > failed.get()) {
                        return null;    // never looked at: an earlier task failed
                    }
                    try {
                        return task.apply(index);
                    } catch (RuntimeException | Error e) {
                        failed.accumulateAndGet(index, Math::min);
                        throw e;
                    }
                }));
            }
            List<T> out = new ArrayList<>(n);
            for (Future<T> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Error error) {
                throw error;
            }
            throw (RuntimeException) cause;    // tasks are IntFunctions: nothing else is thrown
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataFormatException(what + ": interrupted while reading");
        } finally {
            pool.shutdownNow();
            awaitEnd(started);
        }
    }

    /**
     * Waits for {@code threads} to end, each on at most the task it had begun (the pool is shut down); an interrupt
     * meanwhile is kept for the caller.
     */
    private static void awaitEnd(List<Thread> threads) {
        boolean interrupted = Thread.interrupted();
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
