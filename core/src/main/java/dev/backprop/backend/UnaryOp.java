package dev.backprop.backend;

/**
 * Elementwise functions {@code y = f(x)} and their backward forms {@code dx = f'(x)·g}. Parameters
 * {@code p1}, {@code p2} of {@link Backend#unary} are used only where stated. Derivatives at kinks follow
 * PyTorch: {@code relu'(0) = 0}, {@code abs'(0) = 0}; the hard threshold has derivative 0 everywhere.
 */
public enum UnaryOp {
    /** {@code x}; backward {@code g}. */
    IDENTITY,
    /** {@code -x}; backward {@code -g}. */
    NEG,
    /** {@code e^x}; backward {@code e^x·g}. */
    EXP,
    /** {@code ln x}; backward {@code g/x}. */
    LOG,
    /** {@code sqrt x}; backward {@code g/(2·sqrt x)}. */
    SQRT,
    /** {@code |x|}; backward {@code sign(x)·g} with {@code sign(0)=0} and {@code sign(NaN)=NaN} (PyTorch: 0). */
    ABS,
    /** {@code 1/(1+e^-x)}; backward {@code σ(x)(1-σ(x))·g}. */
    SIGMOID,
    /** {@code tanh x}; backward {@code (1-tanh²x)·g}. */
    TANH,
    /** {@code max(0, x)}; backward {@code 1[x>0]·g}. */
    RELU,
    /** Hard threshold {@code 1[x ≥ 0]}; backward 0 (no gradient flows). */
    THRESHOLD,
    /** {@code min(max(x, p1), p2)}; backward {@code 1[p1 ≤ x ≤ p2]·g}. */
    CLAMP,
    /** {@code x^p1}; backward {@code p1·x^(p1-1)·g}. */
    POW
}
