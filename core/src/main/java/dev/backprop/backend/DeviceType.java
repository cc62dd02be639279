package dev.backprop.backend;

/** What kind of device a backend runs on; automatic selection ranks GPUs first. */
public enum DeviceType {
    /** A graphics processor. */
    GPU,
    /** The host's processor. */
    CPU,
    /** Another kind of accelerator. */
    ACCELERATOR
}
