package dev.backprop.tensor;

import dev.backprop.backend.Backend;

/**
 * Copies that change how a tensor's elements are laid out: {@link #permute} (PyTorch's
 * {@code x.permute(...).contiguous()}) on the backend's strided copy, for tensors of rank up to 4.
 */
public final class Layout {
    private Layout() {
    }

    /**
     * A new contiguous tensor whose dimension {@code i} is dimension {@code axes[i]} of {@code x}, e.g.
     * {@code permute(x, 1, 0, 2, 3)} turns {@code [N, C, H, W]} into {@code [C, N, H, W]}.
     *
     * @throws IllegalArgumentException unless {@code axes} is a permutation of {@code 0..rank-1}, rank 1 to 4
     */
    public static Tensor permute(Tensor x, int... axes) {
        String op = "permute";
        Backend be = Checks.backendOf(op, x);
        int r = x.shape().rank();
        if (r < 1 || r > 4 || axes.length != r) {
            throw new IllegalArgumentException(op + ": needs one axis per dimension of a rank 1-4 tensor; got "
                    + java.util.Arrays.toString(axes) + " for " + x.shape());
        }
        Checks.contiguous(op, x);
        int[] dims = x.shape().dims();
        long[] strides = new long[r];
        long step = 1;
        for (int i = r - 1; i >= 0; i--) {
            strides[i] = step;
            step *= dims[i];
        }
        boolean[] seen = new boolean[r];
        int[] sizes = new int[r];
        long[] src = new long[r];
        for (int i = 0; i < r; i++) {
            int a = axes[i];
            if (a < 0 || a >= r || seen[a]) {
                throw new IllegalArgumentException(op + ": axes " + java.util.Arrays.toString(axes)
                        + " are not a permutation of 0.." + (r - 1));
            }
            seen[a] = true;
            sizes[i] = dims[a];
            src[i] = strides[a];
        }
        Tensor out = Tensor.empty(be, x.dtype(), Shape.of(sizes));
        if (x.size() > 0) {
            Elementwise.closeOnFailure(out, () -> be.copyStrided(sizes, x.buffer(), x.offset(), src, out.buffer(),
                    out.offset()));
        }
        return out;
    }
}
