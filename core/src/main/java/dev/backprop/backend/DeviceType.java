package dev.backprop.backend;

/** What kind of device a backend runs on; automatic selection ranks GPUs first. */
public enum DeviceType {
    GPU,
    CPU,
    ACCELERATOR
}
