/**
 * Finding a backend: {@link dev.backprop.runtime.Backends#get(String)} by name,
 * {@link dev.backprop.runtime.Backends#create()} by the selection rules (the system property
 * {@code backprop.backend}, the environment variable {@code BACKPROP_BACKEND}, else the best available device), with
 * the {@link dev.backprop.runtime.FallbackPolicy} for a backend module that cannot run and a
 * {@link dev.backprop.runtime.ProviderStatus} per provider found. Backend modules are found on the class path
 * through {@link java.util.ServiceLoader}; a program never names their classes.
 */
package dev.backprop.runtime;
