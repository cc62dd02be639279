package dev.backprop.onnx;

import java.util.Arrays;

/**
 * A float32 tensor on the heap: the weights of one layer between an ONNX file and a backend. Row-major, PyTorch's
 * layout ({@code [out, in]} for a dense weight, {@code [out, in, kh, kw]} for a convolution's).
 *
 * @param dims its dimensions
 * @param data its elements, row-major
 */
public record HostTensor(int[] dims, float[] data) {
    /** Checks that {@code data} holds exactly the elements {@code dims} imply. */
    public HostTensor {
        dims = dims.clone();
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " need " + n + " elements, got "
                    + data.length);
        }
    }

    /** Its dimensions (a copy). */
    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** The transpose of a matrix ({@code [r, c]} to {@code [c, r]}), exact. */
    HostTensor transposed() {
        int r = dims[0], c = dims[1];
        float[] t = new float[data.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                t[j * r + i] = data[i * c + j];
            }
        }
        return new HostTensor(new int[] {c, r}, t);
    }

    /** Whether it has these dimensions. */
    boolean hasDims(int... expected) {
        return Arrays.equals(dims, expected);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostTensor h && Arrays.equals(dims, h.dims) && Arrays.equals(data, h.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "HostTensor" + Arrays.toString(dims);
    }
}
