package dev.backprop.spark;

import dev.backprop.spark.transport.TransportException;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.SparkException;
import org.apache.spark.Success$;
import org.apache.spark.TaskEndReason;
import org.apache.spark.rdd.DeterministicLevel$;
import org.apache.spark.scheduler.JobFailed;
import org.apache.spark.scheduler.JobSucceeded$;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.storage.RDDInfo;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import scala.Option;
import scala.collection.immutable.List$;
import scala.jdk.javaapi.CollectionConverters;

import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@link StageFailures} fed the listener bus's events directly, as Spark's listener thread delivers them: the
 * training job's events interleaved with those of another job that the caller runs in the same SparkContext, and
 * with those of the training job's other stages (the one that reads the data, which Spark resubmits when an
 * executor that held its output is lost, and the one that collects the results).
 */
class StageFailuresTest {
    private static final int TRAINING_JOB = 7;
    private static final int READ_STAGE = 11;
    private static final int TRAINING_STAGE = 12;
    private static final int COLLECT_STAGE = 14;
    private static final int OTHER_JOB = 8;
    private static final int OTHER_STAGE = 13;

    @Test
    void anotherJobsStagesAndFailureDoNotHideALostRank() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        Properties other = new Properties();
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(1, 2), training));
        f.onJobStart(new SparkListenerJobStart(OTHER_JOB, 0, List$.MODULE$.empty(), other));
        // The other job's stage, submitted while the training stage's second attempt runs.
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(OTHER_STAGE, 0, 1), other));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(
                new TransportException(1, "rank 0: no REDUCE #5 from rank 1 within PT2S"))));
        f.onTaskEnd(taskEnd(OTHER_STAGE, 0, failed(new IllegalStateException("the caller's own job failed"))));
        f.onJobEnd(new SparkListenerJobEnd(OTHER_JOB, 0, new JobFailed(new SparkException("other job aborted"))));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(new TransportException(0, "rank 1: connection to rank 0 lost"))));
        endTraining(f, 1, 2);

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
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(0, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new IllegalStateException("planted"))));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new TransportException(1, "rank 0: connection to rank 1 lost"))));
        endTraining(f, 0, 2);

        assertNull(f.lostRank(new SparkException("Job aborted due to stage failure")));
    }

    @Test
    void oneTaskThatThrewSomethingElseDecidesWhileTheOthersStillRun() {
        // Bad data on one rank: its task throws, and the peers' tasks have not ended yet when the job's end arrives.
        // Their ends cannot make the answer a lost rank, so it is given without them.
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(0, 3), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new IllegalArgumentException("NaN in feature 2 of example 17"))));
        endTraining(f, 0, 3);

        assertNull(f.lostRank(new SparkException("Job aborted due to stage failure")));
    }

    @Test
    void anEarlierAttemptsOtherFailureDoesNotDecideTheLastOne() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(0, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new IllegalStateException("planted"))));
        f.onStageCompleted(new SparkListenerStageCompleted(failedStage(training(0, 2))));
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(1, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(new TransportException(1, "rank 0: connection to rank 1 lost"))));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 1, failed(new TransportException(0, "rank 1: connection to rank 0 lost"))));
        endTraining(f, 1, 2);

        TransportException lost = f.lostRank(new SparkException("Job aborted due to stage failure"));

        assertNotNull(lost, "the first attempt's failure belongs to an attempt that is over");
        assertEquals(1, lost.peerRank());
    }

    @Test
    void anotherJobsSuccessfulTasksAreNotTheTrainingStages() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(0, 1), training));
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(OTHER_STAGE, 0, 1), null));
        f.onTaskEnd(taskEnd(OTHER_STAGE, 0, Success$.MODULE$));
        f.onJobEnd(new SparkListenerJobEnd(OTHER_JOB, 0, JobSucceeded$.MODULE$));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new TransportException(1, "rank 0: connection to rank 1 lost"))));
        endTraining(f, 0, 1);

        TransportException lost = f.lostRank(new SparkException("Job aborted due to stage failure"));

        assertNotNull(lost);
        assertEquals(1, lost.peerRank());
    }

    /**
     * An executor lost during training takes the data stage's output with it, so Spark resubmits that stage (its
     * parent) before the training stage's next attempt: the listener follows the job's stages and still reads the
     * training stage's last attempt, and counts its attempts, not the data stage's.
     */
    @Test
    void theTrainingStageIsFollowedAcrossAResubmittedParentStage() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(READ_STAGE, 0, 2), training));
        f.onTaskEnd(taskEnd(READ_STAGE, 0, Success$.MODULE$));
        f.onTaskEnd(taskEnd(READ_STAGE, 0, Success$.MODULE$));
        for (int attempt = 0; attempt < 3; attempt++) {
            f.onStageSubmitted(new SparkListenerStageSubmitted(training(attempt, 2), training));
            f.onTaskEnd(taskEnd(TRAINING_STAGE, attempt, lost("1")));
            if (attempt < 2) {
                f.onStageCompleted(new SparkListenerStageCompleted(failedStage(training(attempt, 2))));
                // The data stage's output on the lost executor is read again: its attempt numbers are its own.
                f.onStageSubmitted(new SparkListenerStageSubmitted(stage(READ_STAGE, attempt + 1, 1), training));
                f.onTaskEnd(taskEnd(READ_STAGE, attempt + 1, Success$.MODULE$));
            }
        }
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 2, failed(new TransportException(1, "rank 0: connection to rank 1 "
                + "lost"))));
        endTraining(f, 2, 2);

        TransportException lost = f.lostRank(new SparkException("Job aborted due to stage failure"));

        assertNotNull(lost);
        assertEquals("a rank was lost or stalled, and the training stage failed 3 times (" + lost("1").toErrorString()
                + "); check that every executor is still running (its log says why one stopped) and that the "
                + "executors reach each other on the ranks' ports", lost.getMessage());
    }

    /**
     * A job that a resubmitted data stage ended (its tasks lost their executors more often than Spark retries a
     * task) ended where no rank ran, after the training stage's failed attempts: Spark's report stands, not "the
     * training stage failed" with the data stage's attempts and losses.
     */
    @Test
    void aJobThatAResubmittedParentStageEndedKeepsSparksReport() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(stage(READ_STAGE, 0, 2), training));
        f.onTaskEnd(taskEnd(READ_STAGE, 0, Success$.MODULE$));
        f.onTaskEnd(taskEnd(READ_STAGE, 0, Success$.MODULE$));
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(0, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, failed(new TransportException(1, "rank 0: connection to rank 1 "
                + "lost"))));
        f.onStageCompleted(new SparkListenerStageCompleted(failedStage(training(0, 2))));
        StageInfo reread = stage(READ_STAGE, 1, 1);
        f.onStageSubmitted(new SparkListenerStageSubmitted(reread, training));
        for (int i = 0; i < 4; i++) {
            f.onTaskEnd(taskEnd(READ_STAGE, 1, lost(Integer.toString(2 + i))));
        }
        endJob(f, reread);

        assertNull(f.lostRank(new SparkException("Job aborted due to stage failure: Task 0 in stage 11.1 failed 4 "
                + "times")));
    }

    /** The same for the stage that collects the ranks' results, once the training stage succeeded. */
    @Test
    void aJobThatTheCollectingStageEndedKeepsSparksReport() {
        StageFailures f = new StageFailures();
        Properties training = startTraining(f);
        f.onStageSubmitted(new SparkListenerStageSubmitted(training(0, 2), training));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, Success$.MODULE$));
        f.onTaskEnd(taskEnd(TRAINING_STAGE, 0, Success$.MODULE$));
        StageInfo collect = stage(COLLECT_STAGE, 0, 1);
        f.onStageSubmitted(new SparkListenerStageSubmitted(collect, training));
        for (int i = 0; i < 4; i++) {
            f.onTaskEnd(taskEnd(COLLECT_STAGE, 0, lost("0")));
        }
        endJob(f, collect);

        assertNull(f.lostRank(new SparkException("Job aborted due to stage failure: Task 0 in stage 14.0 failed 4 "
                + "times")));
    }

    /** The training job's properties, after its start: what {@code fit} marks its job with. */
    private static Properties startTraining(StageFailures f) {
        Properties training = new Properties();
        training.setProperty(StageFailures.JOB_PROPERTY, f.tag());
        f.onJobStart(new SparkListenerJobStart(TRAINING_JOB, 0, List$.MODULE$.empty(), training));
        return training;
    }

    /**
     * The training job's failed end, as Spark reports a stage that failed more often than it retries: attempt
     * {@code attempt} (of {@code tasks} tasks) of the training stage failed, then the job.
     */
    private static void endTraining(StageFailures f, int attempt, int tasks) {
        endJob(f, training(attempt, tasks));
    }

    /** The training job's failed end after {@code last}, the attempt of one of its stages that ended it. */
    private static void endJob(StageFailures f, StageInfo last) {
        f.onStageCompleted(new SparkListenerStageCompleted(failedStage(last)));
        f.onJobEnd(new SparkListenerJobEnd(TRAINING_JOB, 0, new JobFailed(new SparkException("stage failed"))));
    }

    /** {@code s}, failed, as Spark completes a stage attempt whose task failed. */
    private static StageInfo failedStage(StageInfo s) {
        s.failureReason_$eq(Option.apply("a task failed"));
        return s;
    }

    /** A task whose executor {@code executor} was lost. */
    private static ExecutorLostFailure lost(String executor) {
        return new ExecutorLostFailure(executor, true, Option.apply("killed by the test"));
    }

    /** A task that threw {@code t}. */
    private static ExceptionFailure failed(Throwable t) {
        return new ExceptionFailure(t, List$.MODULE$.empty());
    }

    /** A stage without a barrier RDD: another job's, or the training job's reading or collecting stage. */
    private static StageInfo stage(int id, int attempt, int tasks) {
        return stage(id, attempt, tasks, false);
    }

    /** An attempt of the training job's barrier stage, where the ranks train. */
    private static StageInfo training(int attempt, int tasks) {
        return stage(TRAINING_STAGE, attempt, tasks, true);
    }

    private static StageInfo stage(int id, int attempt, int tasks, boolean barrier) {
        RDDInfo rdd = new RDDInfo(id * 10, "rdd of stage " + id, tasks, StorageLevel.NONE(), barrier,
                List$.MODULE$.empty(), "", Option.empty(), DeterministicLevel$.MODULE$.DETERMINATE());
        return new StageInfo(id, attempt, "stage " + id, tasks, CollectionConverters.asScala(List.of(rdd)).toList(),
                List$.MODULE$.empty(), "", null, List$.MODULE$.empty(), Option.empty(), 0, false, 0);
    }

    private static SparkListenerTaskEnd taskEnd(int stage, int attempt, TaskEndReason reason) {
        return new SparkListenerTaskEnd(stage, attempt, "ShuffleMapTask", reason, null, null, null);
    }
}
