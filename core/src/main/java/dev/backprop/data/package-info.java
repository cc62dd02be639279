/**
 * Examples on the host, and the readers that make them: a {@link dev.backprop.data.Dataset} holds a feature matrix
 * with class labels or real-valued targets; {@link dev.backprop.data.CsvData} reads a numeric CSV (the last column
 * the label, or the last columns the targets), {@link dev.backprop.data.FashionMnist} the IDX files of
 * Fashion-MNIST, and {@link dev.backprop.data.HoldOut} splits one set into a training and a test part by a seed.
 * Every reader treats its file as untrusted input: strict parsing, sizes checked against the file and the heap,
 * one line naming the file, the line or field and the value on refusal ({@link dev.backprop.data.DataFormatException}).
 * {@link dev.backprop.data.BatchLoader} gathers shuffled batches onto a backend for the trainer, optionally
 * {@link dev.backprop.data.Augmentation augmented} on the host (torchvision's random crop and horizontal flip).
 */
package dev.backprop.data;
