package dev.backprop.nn;

/** What a parameter is to its layer; initializers treat weights and biases differently. */
public enum ParameterRole {
    /** A weight matrix {@code [out, in]}. */
    WEIGHT,
    /** A bias vector {@code [out]}. */
    BIAS
}
