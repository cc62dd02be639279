package dev.backprop.spark;

import dev.backprop.spark.transport.TransportException;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.SparkException;
import org.apache.spark.Success$;
import org.apache.spark.TaskEndReason;
import org.apache.spark.scheduler.JobFailed;
import org.apache.spark.scheduler.JobSucceeded$;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.junit.jupiter.api.Test;
import scala.Option;
import scala.collection.immutable.List$;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@link StageFailures} fed the listener bus's events directly, as Spark's listener thread delivers them: the
 * training job's events interleaved with those of another job that the caller runs in the same SparkContext.
 */
class StageFailuresTest {
    private static final int TRAINING_JOB = 7;
    private static final int TRAINING_STAGE = 12;
    private static final int OTHER_JOB = 8;
    private static final int OTHER_STAGE = 13;

    @Test
    void anotherJobsStagesAndFailureDoNotHideALostRank() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        Properties other = new Properties();
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(TRAINING_STAGE, 1, 2), training));
        f.onJobStart(new SparkListenerJobStart(OTHER_JOB, 0, List$.MODULE$.empty(), other));
        // The other job's stage, submitted while the training stage's second attempt runs.
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(OTHER_STAGE, 0, 1), other));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(
                new TransportException(1, "rank 0: no REDUCE #5 from rank 1 within PT2S"))));
        f.onTaskEnd(taskEnd(OTHER_STAGE, 0, failed(new IllegalStateException("the caller's own job failed"))));
        f.onJobEnd(new SparkListenerJobEnd(OTHER_JOB, 0, new JobFailed(new SparkException("other job aborted"))));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(new TransportException(0, "rank 1: connection to rank 0 lost"))));
        endTraining(f);

        TransportException lost = f.lostRank(new SparkException("Job aborted due to stage failure"));

        assertNotNull(lost, "the other job's stage and failure must not count as the training stage's");
        assertEquals("a rank was lost or stalled, and the training stage failed 2 times (rank 0: no REDUCE #5 from "
                + "rank 1 within PT2S); check that every executor is still running (its log says why one stopped) "
                + "and that the executors reach each other on the ranks' ports", lost.getMessage());
        assertEquals(1, lost.peerRank());
    }

    @Test
    void aTrainingTaskThatThrewSomethingElseKeepsSparksReport() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(TRAINING_STAGE, 0, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new IllegalStateException("planted"))));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new TransportException(1, "rank 0: connection to rank 1 lost"))));
        endTraining(f);

        assertNull(f.lostRank(new SparkException("Job aborted due to stage failure")));
    }

    @Test
    void oneTaskThatThrewSomethingElseDecidesWhileTheOthersStillRun() {
        // Bad data on one rank: its task throws, and the peers' tasks have not ended yet when the job's end arrives.
        // Their ends cannot make the answer a lost rank, so it is given without them.
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(TRAINING_STAGE, 0, 3), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new IllegalArgumentException("NaN in feature 2 of example 17"))));
        endTraining(f);

        assertNull(f.lostRank(new SparkException("Job aborted due to stage failure")));
    }

    @Test
    void anEarlierAttemptsOtherFailureDoesNotDecideTheLastOne() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(TRAINING_STAGE, 0, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new IllegalStateException("planted"))));
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(TRAINING_STAGE, 1, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(new TransportException(1, "rank 0: connection to rank 1 lost"))));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(new TransportException(0, "rank 1: connection to rank 0 lost"))));
        endTraining(f);

        TransportException lost = f.lostRank(new SparkException("Job aborted due to stage failure"));

        assertNotNull(lost, "the first attempt's failure belongs to an attempt that is over");
        assertEquals(1, lost.peerRank());
    }

    @Test
    void anotherJobsSuccessfulTasksAreNotTheTrainingStages() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(TRAINING_STAGE, 0, 1), training));
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(OTHER_STAGE, 0, 1), null));
        f.onTaskEnd(taskEnd(OTHER_STAGE, 0, Success$.MODULE$));
        f.onJobEnd(new SparkListenerJobEnd(OTHER_JOB, 0, JobSucceeded$.MODULE$));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new TransportException(1, "rank 0: connection to rank 1 lost"))));
        endTraining(f);

        TransportException lost = f.lostRank(new SparkException("Job aborted due to stage failure"));

        assertNotNull(lost);
        assertEquals(1, lost.peerRank());
    }

    /** The training job's properties, after its start: what {@code fit} marks its job with. */
    private static Properties startTraining(StageFailures f) {
        Properties training = new Properties();
        training.setProperty(StageFailures.JOB_PROPERTY, f.tag());
        f.onJobStart(new SparkListenerJobStart(TRAINING_JOB, 0, List$.MODULE$.empty(), training));
        return training;
    }

    /** The training job's failed end, as Spark reports a stage that failed more often than it retries. */
    private static void endTraining(StageFailures f) {
        f.onJobEnd(new SparkListenerJobEnd(TRAINING_JOB, 0, new JobFailed(new SparkException("stage failed"))));
    }

    /** A task that threw {@code t}. */
    private static ExceptionFailure failed(Throwable t) {
        return new ExceptionFailure(t, List$.MODULE$.empty());
    }

    private static StageInfo stage(int id, int attempt, int tasks) {
        return new StageInfo(id, attempt, "stage " + id, tasks, List$.MODULE$.empty(), List$.MODULE$.empty(), "",
                null, List$.MODULE$.empty(), Option.empty(), 0, false, 0);
    }

    private static SparkListenerTaskEnd taskEnd(int stage, int attempt, TaskEndReason reason) {
        return new SparkListenerTaskEnd(stage, attempt, "ShuffleMapTask", reason, null, null, null);
    }
}
