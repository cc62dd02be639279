package dev.backprop.runtime;

import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.Probe;

/** A provider found on the class path and what its probe said. */
public record ProviderStatus(BackendProvider provider, Probe probe) {
    public String name() {
        return provider.name();
    }
}
