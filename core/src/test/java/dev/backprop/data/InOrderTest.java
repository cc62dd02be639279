package dev.backprop.data;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link InOrder}: results in order, the first failure in order, later tasks not started, interrupts, no leaks. */
class InOrderTest {
    private static boolean threadsLeft(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith(name + "-"));
    }

    @Test
    void resultsComeInTaskOrder() {
        assertEquals(List.of(0, 1, 4, 9, 16, 25, 36), InOrder.run(7, 3, "squares", "test", i -> i * i));
        assertFalse(threadsLeft("squares"));
    }

    @Test
    void theFirstFailureInTaskOrderIsThrownEvenWhenALaterOneFailsFirst() {
        CountDownLatch laterFailed = new CountDownLatch(1);
        AtomicBoolean pastTheFailureRan = new AtomicBoolean();
        RuntimeException e = assertThrows(RuntimeException.class, () -> InOrder.run(40, 2, "fail", "test", i -> {
            if (i == 0) {
                await(laterFailed);
                throw new IllegalStateException("task 0");
            }
            if (i == 1) {
                laterFailed.countDown();
                throw new IllegalStateException("task 1");
            }
            pastTheFailureRan.set(true);
            return i;
        }));
        assertEquals("task 0", e.getMessage());
        assertFalse(pastTheFailureRan.get(), "tasks after a failure are not started");
        assertFalse(threadsLeft("fail"));
    }

    @Test
    void anInterruptStopsTheWaitAndIsKept() throws InterruptedException {
        CountDownLatch started = new CountDownLatch(2);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interrupted = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            try {
                InOrder.run(4, 2, "slow", "a folder", i -> {
                    started.countDown();
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        return null;    // the pool interrupts its tasks when the caller gives up
                    }
                    return i;
                });
            } catch (Throwable t) {
                thrown.set(t);
            }
            interrupted.set(Thread.currentThread().isInterrupted());
        });
        caller.start();
        assertTrue(started.await(30, TimeUnit.SECONDS));
        caller.interrupt();
        caller.join(30_000);
        assertFalse(caller.isAlive());
        assertTrue(thrown.get() instanceof DataFormatException, String.valueOf(thrown.get()));
        assertEquals("a folder: interrupted while reading", thrown.get().getMessage());
        assertTrue(interrupted.get(), "the interrupt is kept");
        assertFalse(threadsLeft("slow"));
    }

    @Test
    void anErrorIsThrownAsItIs() {
        StackOverflowError e = assertThrows(StackOverflowError.class, () -> InOrder.run(3, 2, "error", "test", i -> {
            throw new StackOverflowError("deep");
        }));
        assertEquals("deep", e.getMessage());
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
