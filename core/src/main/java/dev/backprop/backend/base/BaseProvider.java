package dev.backprop.backend.base;

import dev.backprop.backend.BackendProvider;

/**
 * The part of a {@link BackendProvider} that is the same in every module: its name. A module's provider extends
 * it with its probe and its {@code create}.
 */
public abstract class BaseProvider implements BackendProvider {
    private final String name;

    /**
     * A provider of the given name.
     *
     * @param name the provider name, e.g. {@code cpu}
     */
    protected BaseProvider(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }
}
