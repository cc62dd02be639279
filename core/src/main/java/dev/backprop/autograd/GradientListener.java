package dev.backprop.autograd;

/**
 * Told during a backward pass when leaf gradients are complete, so that a caller can start using them (sending
 * them to other machines, say) while the rest of the pass runs. Set on a tape with
 * {@link Tape#listen(GradientListener)}; called on the thread running the backward pass, in the order the pass
 * completes the gradients. The gradient tensors may be read (not written) inside the calls.
 *
 * <p>Within one backward pass, {@link #gradientReady} is called exactly once for every leaf that requires a
 * gradient and is an input of a recorded op up to the pass's root (also when no gradient reaches that op: the
 * leaf's gradient is then complete as it is), as soon as the pass has gone past the last op adding to it.
 * {@link #rowsReady} calls come before the leaf's {@code gradientReady}, for leaves whose last contribution is a single
 * matrix product split as {@link #gemmRowBlock} asks.
 */
public interface GradientListener {
    /**
     * Nothing in this backward pass adds to {@code leaf.grad()} any more.
     *
     * @param leaf a leaf variable that requires a gradient
     */
    void gradientReady(Variable leaf);

    /**
     * Rows {@code [from, to)} (along the first dimension) of the rank-2 {@code leaf.grad()} are complete; the
     * other rows are still being computed.
     *
     * @param leaf the leaf whose gradient is being computed
     * @param from the first complete row
     * @param to   the row after the last complete one
     */
    default void rowsReady(Variable leaf, int from, int to) {
    }

    /**
     * Rows per block in which to compute {@code leaf}'s gradient when its last contribution is one matrix
     * product (the weight gradient of a dense layer), or 0 to compute it at once. Splitting by rows of the result
     * leaves every element's sum, and so its value, as one product computes it on backends whose products
     * accumulate each element independently of the row range (the cpu backend); {@link #rowsReady} is called after
     * each block.
     *
     * @param leaf the leaf whose gradient is about to be computed
     * @return rows per block, or 0 for one block
     */
    default int gemmRowBlock(Variable leaf) {
        return 0;
    }
}
