package dev.backprop.autograd;

import dev.backprop.tensor.ClosedTensorException;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Records the differentiable ops run on the current thread, in order, so that {@link Variable#backward} can
 * replay them in reverse (reverse-mode autodiff). The tape also owns the memory of one step: it opens a
 * {@link Scope}, so every tensor made while it is open (op outputs, values saved for the backward pass,
 * temporaries, pending gradients) is freed when the tape closes. Leaf gradients and parameters made before the
 * tape opened live on. A training loop that opens one tape per step therefore keeps its memory flat.
 *
 * <pre>{@code
 * model.zeroGrad();
 * try (Tape tape = Tape.open()) {
 *     Variable loss = lossFn.compute(model.forward(Variable.constant(x)), y);
 *     loss.backward();
 *     lossValue = loss.value().item();       // read what you need before the tape closes
 * }
 * optimizer.step();
 * }</pre>
 *
 * Only one tape records per thread at a time; {@link NoGrad} suspends recording. Without an open tape, ops
 * compute values only. A tape is confined to the thread that opened it. Closing a {@link Scope} that was open
 * when the tape opened closes the tape too, as it closes the tape's tensors: recording stops there.
 */
public final class Tape implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Tape.class.getName());
    private static final ThreadLocal<Tape> CURRENT = new ThreadLocal<>();

    private final Thread thread = Thread.currentThread();
    private final Scope scope;
    private final List<Node> nodes = new ArrayList<>();
    private boolean closed;
    private boolean warnedZeroGradient;
    /** Backward passes started on this tape, numbering the marks of {@link #checkReplayable}. */
    private int passes;
    private GradientListener listener;

    private Tape() {
        this.scope = Scope.open();
    }

    /**
     * Starts recording on this thread.
     *
     * @return the tape; close it after the backward pass to free the step's tensors
     * @throws IllegalStateException when a tape is already open on this thread
     */
    public static Tape open() {
        if (current() != null) {
            throw new IllegalStateException("a Tape is already recording on thread '"
                    + Thread.currentThread().getName() + "'; close it before opening another");
        }
        Tape t = new Tape();
        CURRENT.set(t);
        return t;
    }

    /** {@return whether ops run now on this thread are recorded (a tape is open and no {@link NoGrad} is active)} */
    public static boolean isRecording() {
        return current() != null && !NoGrad.isActive();
    }

    /**
     * Whether an op on these inputs must be recorded: recording is on and some input requires a gradient.
     *
     * @param inputs the op's inputs (null ones allowed)
     * @return true when the op must be recorded
     */
    public static boolean needsGrad(Variable... inputs) {
        if (!isRecording()) {
            return false;
        }
        for (Variable v : inputs) {
            if (v != null && v.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The output of an op whose value has been computed: recorded with its backward rule when
     * {@link #needsGrad} holds for {@code inputs}, else a plain value. Either way the variable owns {@code value}.
     * Null inputs (an absent bias) are allowed and never receive gradients.
     *
     * @param name     the op name, for messages
     * @param value    the op's result
     * @param backward its backward rule; it may capture tensors saved in the forward pass (made while the tape
     *                 is open, so freed with it)
     * @param inputs   the op's inputs
     * @return the output variable
     */
    public static Variable record(String name, Tensor value, BackwardFunction backward, Variable... inputs) {
        if (!needsGrad(inputs)) {
            return new Variable(value, null, false, true, null);
        }
        Tape tape = current();
        Node node = new Node(tape, tape.nodes.size(), name, inputs.clone(), backward);
        Variable out = new Variable(value, null, true, true, node);
        node.output(out);
        tape.nodes.add(node);
        return out;
    }

    /**
     * Keeps a tensor made while this tape is open alive after it closes (see {@link Scope#keep}).
     *
     * @param t the tensor
     * @return {@code t}
     */
    public Tensor keep(Tensor t) {
        checkUsable();
        return scope.keep(t);
    }

    /**
     * Tells a listener when leaf gradients are complete during this tape's backward passes. Without a listener
     * the backward pass is unchanged.
     *
     * @param l the listener, or {@code null} to stop telling
     */
    public void listen(GradientListener l) {
        checkUsable();
        this.listener = l;
    }

    /** The listener set by {@link #listen}, or null. */
    GradientListener listener() {
        return listener;
    }

    /** {@return the number of ops recorded so far} */
    public int size() {
        return nodes.size();
    }

    /** Logs, once per tape, that a backward pass met an op whose derivative is zero everywhere. */
    void warnZeroGradient(String op) {
        if (!warnedZeroGradient) {
            warnedZeroGradient = true;
            LOG.warning("backward through " + op + ": its derivative is 0 everywhere, so no gradient reaches "
                    + "what comes before it; it is for inference (train with sigmoid or tanh instead)");
        }
    }

    /** Runs the backward pass from {@code root} with {@code upstream} (borrowed). */
    void backward(Variable root, Tensor upstream) {
        checkUsable();
        Node start = root.node();
        if (start.tape() != this || start.index() >= nodes.size() || nodes.get(start.index()) != start) {
            throw new IllegalStateException("backward(): this variable was recorded on another tape");
        }
        checkReplayable(start);
        Map<Variable, Gradients.Pending> pending = new IdentityHashMap<>();
        Tensor root0 = upstream.shape().equals(root.shape()) ? upstream : upstream.reshape(root.shape().dims());
        pending.put(root, new Gradients.Pending(root0, root0));
        GradientListener l = listener;
        Map<Variable, Integer> lastUse = l == null ? null : lastContributions(start.index());
        try {
            for (int i = start.index(); i >= 0; i--) {
                Node n = nodes.get(i);
                Gradients.Pending g = pending.remove(n.output());
                if (g != null) {
                    try {
                        n.backward().backward(g.grad(), new Gradients(n, pending, lastUse,
                                g.owner() != root0));
                    } finally {
                        if (g.owner() != upstream) {
                            g.close();
                        }
                    }
                }
                if (l != null) {
                    announceCompleted(n, lastUse, l);
                }
            }
        } finally {
            for (Gradients.Pending p : pending.values()) {
                if (p.owner() != upstream) {
                    p.close();
                }
            }
        }
    }

    /**
     * Refuses a pass, before it writes any gradient, when an op it would replay refers to a value that has been
     * closed, or read or made a value that has been written in place since (an optimizer step between two backward
     * passes, say): its rule would fail halfway, leaving some leaves with this pass's gradient and others without,
     * or mix the new value with what the forward pass saved. PyTorch refuses the second case the same way ("one of
     * the variables needed for gradient computation has been modified by an inplace operation"). An input computed
     * on another tape is refused too: the pass cannot continue into that tape's graph, so the leaves behind it would
     * silently miss their gradients (PyTorch: "Trying to backward through the graph a second time"). Only the ops
     * the pass reaches are checked: each is marked with the pass's number from {@code start} down through the
     * inputs it feeds gradients to.
     */
    private void checkReplayable(Node start) {
        int pass = ++passes;
        start.reachedBy(pass);
        for (int i = start.index(); i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.reachedBy() != pass) {
                continue;
            }
            Tensor closed = n.closedValue();
            if (closed != null) {
                throw new ClosedTensorException("backward(): op '" + n.name() + "' (op " + (i + 1) + " of "
                        + nodes.size() + " on this tape) refers to a value " + closed.shape() + " " + closed.dtype()
                        + " that was closed after the op ran (" + n.valueShapes() + "); keep the values of a graph "
                        + "open until its backward passes are done");
            }
            if (n.valuesChanged()) {
                throw new IllegalStateException("backward(): a value that op '" + n.name() + "' (op " + (i + 1)
                        + " of " + nodes.size() + " on this tape) read or made was written in place after the op "
                        + "ran (" + n.valueShapes() + "), so its gradient would be wrong; run the forward pass "
                        + "again on a new Tape after changing values (step the optimizer after the last backward "
                        + "pass)");
            }
            for (Variable v : n.inputs()) {
                if (v == null || v.node() == null) {
                    continue;
                }
                if (v.node().tape() != this) {
                    throw new IllegalStateException("backward(): op '" + n.name() + "' (op " + (i + 1) + " of "
                            + nodes.size() + " on this tape) has an input " + v.shape() + " computed by '"
                            + v.node().name() + "' on another Tape, whose graph ends when it closes, so no gradient "
                            + "would reach what came before it; compute it on this Tape, or wrap its value with "
                            + "Variable.leaf or Variable.constant to stop the gradient there");
                }
                v.node().reachedBy(pass);
            }
        }
    }

    /**
     * For every leaf that requires a gradient and is an input of nodes {@code 0..last}, the lowest such node's
     * index: the backward pass, running in reverse, adds the leaf's last contribution there. Insertion order is
     * the order of first use.
     */
    private Map<Variable, Integer> lastContributions(int last) {
        Map<Variable, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i <= last; i++) {
            for (Variable v : nodes.get(i).inputs()) {
                if (v != null && v.isLeaf() && v.requiresGrad()) {
                    out.putIfAbsent(v, i);
                }
            }
        }
        return out;
    }

    /** Tells the listener about each leaf whose last contribution was node {@code n} (once per leaf). */
    private static void announceCompleted(Node n, Map<Variable, Integer> lastUse, GradientListener l) {
        Variable[] in = n.inputs();
        for (int k = 0; k < in.length; k++) {
            Variable v = in[k];
            Integer at = v == null ? null : lastUse.get(v);
            if (at != null && at == n.index() && firstOccurrence(in, k)) {
                l.gradientReady(v);
            }
        }
    }

    private static boolean firstOccurrence(Variable[] in, int k) {
        for (int j = 0; j < k; j++) {
            if (in[j] == in[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * This thread's recording tape, or null. A tape whose scope was closed by an enclosing {@link Scope} lost every
     * tensor it made, so it stops recording here rather than record ops whose tensors no scope would free.
     */
    private static Tape current() {
        Tape t = CURRENT.get();
        if (t != null && t.scope.isClosed()) {
            CURRENT.remove();
            t.nodes.clear();
            return null;
        }
        return t;
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("this Tape is closed; its graph and saved tensors are gone");
        }
        if (scope.isClosed()) {
            throw new IllegalStateException("this Tape is closed (by closing a Scope it was opened in); its graph "
                    + "and saved tensors are gone");
        }
        checkThread();
    }

    private void checkThread() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("Tape opened on thread '" + thread.getName() + "' used from thread '"
                    + Thread.currentThread().getName() + "'");
        }
    }

    /** Stops recording and frees every tensor made while the tape was open (except kept ones). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        checkThread();
        closed = true;
        if (CURRENT.get() == this) {
            CURRENT.remove();
        }
        nodes.clear();
        scope.close();
    }
}
