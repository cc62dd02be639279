package dev.backprop.opencl;

import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One OpenCL device as {@link OpenClDevices#discover()} found it: its handles and the facts the backend
 * needs (type, memory limits, float64 support, work-group limits).
 *
 * @param index             position in the discovery order (platform order, then device order), the number
 *                          {@code backprop.opencl.device} accepts
 * @param platform          the platform handle
 * @param id                the device handle
 * @param name              {@code CL_DEVICE_NAME}
 * @param platformName      {@code CL_PLATFORM_NAME}
 * @param type              GPU, CPU or accelerator ({@code CL_DEVICE_TYPE})
 * @param globalMemBytes    {@code CL_DEVICE_GLOBAL_MEM_SIZE}
 * @param maxAllocBytes     {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}: the largest single buffer
 * @param localMemBytes     {@code CL_DEVICE_LOCAL_MEM_SIZE}
 * @param maxWorkGroupSize  {@code CL_DEVICE_MAX_WORK_GROUP_SIZE}
 * @param computeUnits      {@code CL_DEVICE_MAX_COMPUTE_UNITS}
 * @param fp64              whether the device has {@code cl_khr_fp64}
 * @param version           {@code CL_DEVICE_VERSION}
 * @param driverVersion     {@code CL_DRIVER_VERSION}
 */
record OpenClDevice(int index, cl_platform_id platform, cl_device_id id, String name, String platformName,
                    DeviceType type, long globalMemBytes, long maxAllocBytes, long localMemBytes,
                    long maxWorkGroupSize, int computeUnits, boolean fp64, String version, String driverVersion) {

    /** The SPI's description of this device. */
    DeviceInfo info() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("index", Integer.toString(index));
        details.put("platform", platformName);
        details.put("version", version);
        details.put("driver", driverVersion);
        details.put("computeUnits", Integer.toString(computeUnits));
        details.put("fp64", Boolean.toString(fp64));
        return new DeviceInfo(name, type, globalMemBytes, details);
    }

    /** {@code #0 pthread-haswell-AMD EPYC [CPU] on Portable Computing Language}. */
    String label() {
        return "#" + index + " " + name + " [" + type + "] on " + platformName;
    }
}
