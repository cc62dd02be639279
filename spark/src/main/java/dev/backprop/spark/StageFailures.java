package dev.backprop.spark;

import dev.backprop.spark.transport.TransportException;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.SparkException;
import org.apache.spark.TaskEndReason;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.TaskKilled;
import org.apache.spark.scheduler.JobFailed;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Why the tasks of the training stage's last attempt failed, as the driver's listener bus reports them: a failed
 * barrier stage reaches the caller as a {@link SparkException} whose message quotes the failure as text, with no
 * cause, while each task's end event carries its reason as data (the exception's class name and message, or the
 * executor's loss). Registered on the driver around the training job ({@link SparkTrainer}), which carries
 * {@link #tag()} in the local property {@link #JOB_PROPERTY}: the events of other jobs in the same SparkContext
 * (the caller's, on other threads) are ignored.
 */
final class StageFailures extends SparkListener {
    /**
     * How long the driver waits for the failed job's end event, which follows the failing task's on the listener
     * bus, and then for the end of the attempt's other tasks, which Spark kills.
     */
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** The local property naming the training job whose failures a listener collects. */
    static final String JOB_PROPERTY = "backprop.training.job";

    private final String tag = UUID.randomUUID().toString();
    private final CountDownLatch jobFailed = new CountDownLatch(1);
    private volatile int jobId = -1;
    private final List<TaskFailedReason> reasons = new ArrayList<>();
    private int stageId = -1;
    private int attempt = -1;
    private int tasks;
    private int ended;
    /** Whether one of the attempt's failed tasks was neither lost nor stalled (see {@link #lostRank}). */
    private boolean failedOtherwise;

    /** The value of {@link #JOB_PROPERTY} that marks the training job's events for this listener. */
    String tag() {
        return tag;
    }

    private boolean ours(Properties p) {
        return p != null && tag.equals(p.getProperty(JOB_PROPERTY));
    }

    @Override
    public void onJobStart(SparkListenerJobStart e) {
        if (ours(e.properties())) {
            jobId = e.jobId();
        }
    }

    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted e) {
        if (!ours(e.properties())) {
            return;
        }
        stageId = e.stageInfo().stageId();
        attempt = e.stageInfo().attemptNumber();
        tasks = e.stageInfo().numTasks();
        ended = 0;
        failedOtherwise = false;
        reasons.clear();
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        if (e.stageId() != stageId || e.stageAttemptId() != attempt) {
            return;
        }
        TaskEndReason r = e.reason();
        if (r instanceof TaskFailedReason f && !(r instanceof TaskKilled)) {
            reasons.add(f);
            failedOtherwise |= !lostOrStalled(f);
        }
        ended++;
        notifyAll();
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd e) {
        if (e.jobId() == jobId && e.jobResult() instanceof JobFailed) {
            jobFailed.countDown();
        }
    }

    /**
     * {@code e} explained when the last attempt of the failed stage failed because a rank was lost or stalled: its
     * failed tasks each lost their executor or threw a {@link TransportException} (a peer's connection dropped or
     * went silent), which is not a bug in Backprop. Else null: a task that threw anything else keeps Spark's
     * report (a rank that fails makes its peers lose their connections to it, so the attempt's tasks are awaited
     * until they all ended, one of them failed otherwise, or the wait ran out), and so does a job whose end the
     * listener bus did not deliver.
     *
     * @param e what the training job threw
     * @return a {@link TransportException} with one line naming what the ranks saw and what to check, caused by
     *         {@code e}; or null
     */
    TransportException lostRank(Exception e) {
        long deadline = System.nanoTime() + WAIT_NANOS;
        try {
            // Outside the lock, which the listener thread takes to deliver the events before the job's end.
            if (!(e instanceof SparkException) || !jobFailed.await(WAIT_NANOS, TimeUnit.NANOSECONDS)) {
                return null;
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return null;
        }
        synchronized (this) {
            try {
                // A task that failed otherwise decides the answer, so the attempt's other tasks are not awaited.
                for (long left = deadline - System.nanoTime(); ended < tasks && !failedOtherwise && left > 0;
                     left = deadline - System.nanoTime()) {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                return null;
            }
            String seen = null;
            int peer = -1;
            for (TaskFailedReason r : reasons) {
                if (!lostOrStalled(r)) {
                    return null;
                }
                if (seen == null && r instanceof ExceptionFailure f) {
                    seen = f.description();
                    peer = f.exception().isDefined() && f.exception().get() instanceof TransportException t
                            ? t.peerRank() : -1;
                } else if (seen == null) {
                    seen = r.toErrorString();
                }
            }
            if (seen == null) {
                return null;
            }
            int attempts = attempt + 1;
            return new TransportException(peer, "a rank was lost or stalled, and the training stage failed "
                    + attempts + (attempts == 1 ? " time" : " times") + " (" + seen + "); check that every executor "
                    + "is still running (its log says why one stopped) and that the executors reach each other on the "
                    + "ranks' ports", e);
        }
    }

    /** Whether {@code r} is a rank's loss or stall: its executor was lost, or it threw a {@link TransportException}. */
    private static boolean lostOrStalled(TaskFailedReason r) {
        return r instanceof ExecutorLostFailure
                || r instanceof ExceptionFailure f && f.className().equals(TransportException.class.getName());
    }
}
