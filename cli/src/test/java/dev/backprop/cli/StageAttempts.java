package dev.backprop.cli;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records the attempt number of every stage a Spark context submits, so that a test sees whether Spark reran one;
 * named in {@code spark.extraListeners} (which needs a public class with a no-argument constructor).
 */
public final class StageAttempts extends SparkListener {
    /** The attempt numbers seen in this JVM: {@code {0}} when no stage ran twice. */
    static final Set<Integer> SEEN = ConcurrentHashMap.newKeySet();

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted e) {
        SEEN.add(e.stageInfo().attemptNumber());
    }
}
