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
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 *
 * <p>The job has more stages than the barrier stage where the ranks train (the one that reads the data, when it
 * shuffles, and the one that collects the results), and Spark resubmits a parent stage whose output was lost with
 * an executor, so the listener follows every stage of the job, each by its latest attempt, and reads the one whose
 * failure ended the job: Spark reports it failed ({@link SparkListenerStageCompleted} with a failure reason) before
 * it reports the job failed.
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
    /** The latest attempt of each of the training job's stages submitted so far, by stage id. */
    private final Map<Integer, Attempt> stages = new HashMap<>();
    /** The latest of the job's stage attempts that Spark reported failed, or null. */
    private Attempt failed;

    /** One attempt of one of the training job's stages, and its tasks' ends. */
    private static final class Attempt {
        final int number;
        final int tasks;
        /** Whether the ranks train in it: its RDDs include the barrier one. */
        final boolean barrier;
        final List<TaskFailedReason> reasons = new ArrayList<>();
        int ended;
        /** Whether one of its failed tasks was neither lost nor stalled (see {@link #lostRank}). */
        boolean failedOtherwise;

        Attempt(StageInfo info) {
            number = info.attemptNumber();
            tasks = info.numTasks();
            barrier = info.rddInfos().exists(rdd -> rdd.isBarrier());
        }
    }

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
        if (ours(e.properties())) {
            stages.put(e.stageInfo().stageId(), new Attempt(e.stageInfo()));
        }
    }

    @Override
    public synchronized void onStageCompleted(SparkListenerStageCompleted e) {
        Attempt a = latest(e.stageInfo().stageId(), e.stageInfo().attemptNumber());
        if (a != null && e.stageInfo().failureReason().isDefined()) {
            failed = a;
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        Attempt a = latest(e.stageId(), e.stageAttemptId());
        if (a == null) {
            return;
        }
        TaskEndReason r = e.reason();
        if (r instanceof TaskFailedReason f && !(r instanceof TaskKilled)) {
            a.reasons.add(f);
            a.failedOtherwise |= !lostOrStalled(f);
        }
        a.ended++;
        notifyAll();
    }

    /** The training job's stage {@code stageId} when {@code attempt} is its latest attempt, else null. */
    private Attempt latest(int stageId, int attempt) {
        Attempt a = stages.get(stageId);
        return a != null && a.number == attempt ? a : null;
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd e) {
        if (e.jobId() == jobId && e.jobResult() instanceof JobFailed) {
            jobFailed.countDown();
        }
    }

    /**
     * {@code e} explained when the job ended because the last attempt of its barrier stage failed because a rank
     * was lost or stalled: its failed tasks each lost their executor or threw a {@link TransportException} (a
     * peer's connection dropped or went silent), which is not a bug in Backprop. Else null: a task that threw
     * anything else keeps Spark's report (a rank that fails makes its peers lose their connections to it, so the
     * attempt's tasks are awaited until they all ended, one of them failed otherwise, or the wait ran out), and so
     * do a job that another of its stages ended (one that reads the data, however its tasks failed: no rank ran
     * there) and a job whose end, or whose failed stage, the listener bus did not deliver.
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
            Attempt a = failed;
            if (a == null || !a.barrier) {
                return null;
            }
            try {
                // A task that failed otherwise decides the answer, so the attempt's other tasks are not awaited.
                for (long left = deadline - System.nanoTime(); a.ended < a.tasks && !a.failedOtherwise && left > 0;
                     left = deadline - System.nanoTime()) {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                return null;
            }
            String seen = null;
            int peer = -1;
            for (TaskFailedReason r : a.reasons) {
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
            int attempts = a.number + 1;
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
