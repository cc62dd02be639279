package dev.backprop.train;

/**
 * What one training epoch did.
 *
 * @param epoch         the epoch number, from 1 (counting epochs restored from a checkpoint)
 * @param trainLoss     mean training loss over the epoch's batches, weighted by batch size
 * @param trainAccuracy training accuracy over the epoch, or NaN when the loss does not classify or accuracy is not
 *                      tracked
 * @param learningRate  the learning rate used during the epoch
 * @param validation    the evaluation on the validation set after the epoch, or null when none was given
 * @param examples      training examples seen
 * @param millis        wall-clock time of the epoch including validation, for progress displays
 * @param trainSeconds  the epoch's training alone, as PyTorch's reference times it: the shuffle, gathering and
 *                      uploading the batches, forward, loss, backward and optimizer steps, ended by a wait for
 *                      the device (validation excluded)
 */
public record EpochMetrics(int epoch, double trainLoss, double trainAccuracy, double learningRate,
                           Evaluation validation, long examples, long millis, double trainSeconds) {
}
