package dev.backprop.backend.base;

import dev.backprop.backend.MemoryStats;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What {@link BaseBackend#close()} and the cleaner close: the lock, the pool and the owned resources, never the backend
 * itself (a reference to it would keep it reachable, and the cleaner would never run).
 */
final class BackendState<M> implements Runnable {
    private static final Logger LOG = Logger.getLogger(BaseBackend.class.getName());

    final String name;
    final ReentrantLock lock = new ReentrantLock();
    final RawMemory<M> memory;
    final MemoryPool<M> pool;
    final List<AutoCloseable> resources = new ArrayList<>();
    volatile boolean closed;
    volatile boolean explicit;
    volatile RuntimeException failure;

    BackendState(String name, RawMemory<M> memory, MemoryPool<M> pool) {
        this.name = name;
        this.memory = memory;
        this.pool = pool;
    }

    @Override
    public void run() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            int buffers = pool.liveCount();
            long bytes = pool.liveBytes();
            RuntimeException f = shutDown();
            if (explicit) {
                failure = f;
            } else {
                LOG.log(Level.WARNING, String.format("a %s backend was never closed: the cleaner closed it when it"
                        + " became unreachable, freeing %d live buffers (%s) and its native resources; close"
                        + " backends (try-with-resources) to free them at a known time", name, buffers,
                        MemoryStats.human(bytes)), f);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Each step runs even when an earlier one failed (a broken device fails them all); returns the first. */
    private RuntimeException shutDown() {
        List<Throwable> failures = new ArrayList<>();
        step(failures, memory::enter);
        step(failures, pool::close);
        for (int i = resources.size() - 1; i >= 0; i--) {
            AutoCloseable r = resources.get(i);
            step(failures, () -> {
                try {
                    r.close();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(name + ": closing " + r + " failed", e);
                }
            });
        }
        resources.clear();
        if (failures.isEmpty()) {
            return null;
        }
        RuntimeException first = failures.get(0) instanceof RuntimeException re ? re
                : new IllegalStateException(name + ": close failed", failures.get(0));
        failures.subList(1, failures.size()).forEach(first::addSuppressed);
        return first;
    }

    private static void step(List<Throwable> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            failures.add(e);
        }
    }
}
