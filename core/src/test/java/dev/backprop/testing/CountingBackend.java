package dev.backprop.testing;

import dev.backprop.backend.Backend;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A backend that forwards every call to another and counts the calls by SPI method name, so a test can see which
 * ops core asks for (a default method the inner backend runs calls its primitives on itself, uncounted).
 */
public final class CountingBackend {
    private final Map<String, Integer> calls = new ConcurrentHashMap<>();
    private final Backend backend;

    /**
     * Counts the calls made to {@code inner}.
     *
     * @param inner the backend doing the work
     */
    public CountingBackend(Backend inner) {
        backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    calls.merge(method.getName(), 1, Integer::sum);
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** {@return the counting backend} */
    public Backend backend() {
        return backend;
    }

    /**
     * Calls of one SPI method since the last {@link #reset()}.
     *
     * @param method the method name
     * @return how many
     */
    public int count(String method) {
        return calls.getOrDefault(method, 0);
    }

    /** Forgets the counts. */
    public void reset() {
        calls.clear();
    }
}
