package dev.backprop.cuda;

import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the driver reports about one device, read without creating a context (so probing is cheap and
 * touches no GPU memory).
 *
 * @param index          the device ordinal ({@code backprop.cuda.device})
 * @param name           e.g. {@code NVIDIA H100 80GB HBM3}
 * @param major          compute capability major
 * @param minor          compute capability minor
 * @param memoryBytes    total global memory
 * @param multiprocessors streaming multiprocessor count
 */
record CudaDeviceFacts(int index, String name, int major, int minor, long memoryBytes, int multiprocessors) {

    /** Queries device {@code index}; the driver must be initialized. */
    static CudaDeviceFacts query(int index) {
        CUdevice device = new CUdevice();
        CudaCheck.check(JCudaDriver.cuDeviceGet(device, index), "cuDeviceGet(" + index + ")");
        byte[] nameBytes = new byte[256];
        CudaCheck.check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName");
        int end = 0;
        while (end < nameBytes.length && nameBytes[end] != 0) {
            end++;
        }
        long[] memory = new long[1];
        CudaCheck.check(JCudaDriver.cuDeviceTotalMem(memory, device), "cuDeviceTotalMem");
        return new CudaDeviceFacts(index, new String(nameBytes, 0, end, StandardCharsets.UTF_8),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), memory[0],
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        CudaCheck.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute");
        return v[0];
    }

    /** The compute capability as {@code 9.0}. */
    String computeCapability() {
        return major + "." + minor;
    }

    /** The device as {@code backprop backends} shows it, with driver, runtime and cuBLAS versions. */
    DeviceInfo toDeviceInfo(int driverVersion, int runtimeVersion, String cublas) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("index", Integer.toString(index));
        details.put("compute", computeCapability());
        details.put("sms", Integer.toString(multiprocessors));
        details.put("driver", "CUDA " + DriverRequirements.format(driverVersion));
        if (runtimeVersion > 0) {
            details.put("runtime", "CUDA " + DriverRequirements.format(runtimeVersion) + " (JCuda 12.6.0)");
        }
        if (cublas != null) {
            details.put("cublas", cublas);
        }
        return new DeviceInfo(name, DeviceType.GPU, memoryBytes, details);
    }
}
