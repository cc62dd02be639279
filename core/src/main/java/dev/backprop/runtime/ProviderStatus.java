package dev.backprop.runtime;

import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.Probe;

/**
 * A provider found on the class path and what its probe said.
 *
 * @param provider the provider
 * @param probe    its probe's answer
 */
public record ProviderStatus(BackendProvider provider, Probe probe) {
    /** {@return the provider's name} */
    public String name() {
        return provider.name();
    }
}
