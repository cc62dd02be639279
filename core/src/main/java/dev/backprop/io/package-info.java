/**
 * Model files and checkpoints in the safetensors format: PyTorch {@code state_dict} names, the architecture in the
 * metadata, optional optimizer state. Headers are parsed strictly and validated completely (lengths, offsets,
 * sizes, dtypes, overlaps) before anything is allocated; files are written atomically.
 */
package dev.backprop.io;
