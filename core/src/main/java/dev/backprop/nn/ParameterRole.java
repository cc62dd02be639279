package dev.backprop.nn;

/** What a parameter is to its layer; initializers treat weights and biases differently. */
public enum ParameterRole {
    WEIGHT, BIAS
}
