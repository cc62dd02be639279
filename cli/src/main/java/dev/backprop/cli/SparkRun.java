package dev.backprop.cli;

import dev.backprop.model.Task;
import dev.backprop.nn.Architecture;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.SparkTrainDriver;
import dev.backprop.spark.TrainingSpec;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * {@code train --spark MASTER}: the train command's options turned into the Spark driver's request, the loss
 * settings included (recorded in the model file as local training records them). Loaded only
 * after {@link SparkTraining} found Spark on the class path, since the driver links against it.
 */
final class SparkRun {
    private SparkRun() {
    }

    /** Trains on Spark as {@code cmd}'s options say and saves the model at its {@code --out}. */
    static void run(TrainCommand cmd, Task task, PrintWriter out) throws IOException {
        try {
            train(cmd, task, out);
        } catch (IllegalArgumentException e) {
            throw LossOptions.balancedRefusal(e);
        }
    }

    private static void train(TrainCommand cmd, Task task, PrintWriter out) throws IOException {
        SparkOptions so = cmd.sparkOptions;
        SparkTrainDriver.Data data = cmd.data.sparkData(task, so.checkpointDir);
        SparkTrainDriver.run(cmd.spark, so.ranks, data, task, (inputs, outputs) -> {
            Architecture arch = cmd.modelOptions.architecture(new int[] {inputs}, outputs, cmd.seed);
            TrainingSpec.Builder b = TrainingSpec.builder(ModelFactory.of(arch), cmd.optimizerOptions.choice())
                    .inputShape(arch.inputShape()).task(task).batchSize(cmd.batchSize)
                    .epochs(cmd.epochs).seed(cmd.seed).clipNorm(cmd.clipNorm).sync(so.syncMode())
                    .backend(cmd.selection.commandLineName()).listen(null, so.port).transport(so.transport());
            Integer threads = cmd.threads.count();
            if (threads != null) {
                b.threads(threads);
            }
            if (so.checkpointDir != null) {
                b.checkpoints(so.checkpointDir, so.checkpointEvery);
            }
            LossOptions loss = cmd.lossOptions;
            if (task == Task.CLASSIFICATION) {
                b.labelSmoothing(loss.labelSmoothing);
                if (loss.isBalanced()) {
                    b.balancedClassWeights();
                } else if (loss.classWeights != null) {
                    b.classWeights(loss.givenFor(outputs));
                }
            }
            return b.build();
        }, (facts, trained) -> cmd.lossOptions.putMetadata(facts, trained.loss()), cmd.out, out);
    }
}
