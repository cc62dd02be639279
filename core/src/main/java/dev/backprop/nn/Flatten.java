package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;

import java.util.Map;

/** {@code [N, d1, d2, ...]} to {@code [N, d1·d2·...]} (a view, no copy), like PyTorch's {@code nn.Flatten}. */
public final class Flatten implements Layer {
    @Override
    public Variable forward(Variable input) {
        return Ops.flatten(input);
    }

    @Override
    public Map<String, Variable> parameters() {
        return Map.of();
    }

    @Override
    public LayerSpec spec() {
        return LayerSpec.of("flatten", Map.of());
    }

    @Override
    public String toString() {
        return "Flatten";
    }
}
