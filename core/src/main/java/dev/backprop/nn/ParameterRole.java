package dev.backprop.nn;

/** What a parameter is to its layer; initializers treat weights, biases and normalization parameters differently. */
public enum ParameterRole {
    /** A weight matrix {@code [out, in]}. */
    WEIGHT,
    /** A bias vector {@code [out]}. */
    BIAS,
    /** A normalization's per-channel scale ({@code gamma}): initialized to ones, drawing nothing. */
    SCALE,
    /** A normalization's per-channel shift ({@code beta}): initialized to zeros, drawing nothing. */
    SHIFT
}
