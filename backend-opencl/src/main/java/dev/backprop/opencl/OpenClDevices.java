package dev.backprop.opencl;

import dev.backprop.backend.DeviceType;
import dev.backprop.opencl.OpenClCheck.OpenClUnavailableException;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Finds OpenCL platforms and devices and picks the one a backend runs on. Cheap: only {@code clGet*Info}
 * queries, no context, no compilation, so the probe can call it.
 */
final class OpenClDevices {
    private OpenClDevices() {
    }

    /**
     * Every device of every platform, in platform order then device order.
     *
     * @throws OpenClUnavailableException when there is no platform or no device, with the reason
     * @throws UnsatisfiedLinkError       (from JOCL's class initialization) when {@code libOpenCL.so.1} is missing,
     *                                    or JOCL's native library could not be loaded safely
     */
    static List<OpenClDevice> discover() throws OpenClUnavailableException {
        OpenClNatives.load();
        int[] count = new int[1];
        int status = CL.clGetPlatformIDs(0, null, count);
        if (status == CL.CL_PLATFORM_NOT_FOUND_KHR || status == CL.CL_SUCCESS && count[0] == 0) {
            throw new OpenClUnavailableException("no OpenCL platform: the ICD loader found no driver "
                    + "(clGetPlatformIDs: CL_PLATFORM_NOT_FOUND_KHR; check /etc/OpenCL/vendors and OCL_ICD_VENDORS); "
                    + OpenClCheck.INSTALL_HINT);
        }
        OpenClCheck.check(status, "clGetPlatformIDs");
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        OpenClCheck.check(CL.clGetPlatformIDs(platforms.length, platforms, null), "clGetPlatformIDs");
        List<OpenClDevice> devices = new ArrayList<>();
        List<String> platformNames = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            String platformName = platformString(platform, CL.CL_PLATFORM_NAME);
            platformNames.add(platformName);
            int[] n = new int[1];
            int s = CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, 0, null, n);
            if (s == CL.CL_DEVICE_NOT_FOUND || s == CL.CL_SUCCESS && n[0] == 0) {
                continue;
            }
            OpenClCheck.check(s, "clGetDeviceIDs");
            cl_device_id[] ids = new cl_device_id[n[0]];
            OpenClCheck.check(CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, ids.length, ids, null),
                    "clGetDeviceIDs");
            for (cl_device_id id : ids) {
                devices.add(describe(devices.size(), platform, platformName, id));
            }
        }
        if (devices.isEmpty()) {
            throw new OpenClUnavailableException("OpenCL platform(s) " + platformNames + " found, but no device: "
                    + "the driver sees no usable GPU or CPU (for PoCL check POCL_DEVICES); "
                    + OpenClCheck.INSTALL_HINT);
        }
        return devices;
    }

    /**
     * The device a backend should use: with no selector the first GPU, else the first accelerator, else the first
     * CPU device; with a selector that is a number, the device of that {@link OpenClDevice#index()}; otherwise the
     * first device whose name or platform name contains the selector (case-insensitive).
     *
     * @throws OpenClUnavailableException when the selector matches nothing, listing the devices there are
     */
    static OpenClDevice select(List<OpenClDevice> devices, Optional<String> selector)
            throws OpenClUnavailableException {
        if (selector.isEmpty()) {
            return devices.stream().min(Comparator.comparingInt(d -> preference(d.type()))).orElseThrow();
        }
        String s = selector.get();
        if (s.matches("\\d+")) {
            int index = Integer.parseInt(s);
            if (index < devices.size()) {
                return devices.get(index);
            }
        } else {
            String needle = s.toLowerCase(Locale.ROOT);
            for (OpenClDevice d : devices) {
                if (d.name().toLowerCase(Locale.ROOT).contains(needle)
                        || d.platformName().toLowerCase(Locale.ROOT).contains(needle)) {
                    return d;
                }
            }
        }
        throw new OpenClUnavailableException("backprop.opencl.device='" + s + "' matches no OpenCL device; "
                + "give an index or a name substring of one of: "
                + devices.stream().map(OpenClDevice::label).collect(Collectors.joining("; ")));
    }

    private static int preference(DeviceType type) {
        return switch (type) {
            case GPU -> 0;
            case ACCELERATOR -> 1;
            case CPU -> 2;
        };
    }

    private static OpenClDevice describe(int index, cl_platform_id platform, String platformName, cl_device_id id) {
        long typeBits = deviceLong(id, CL.CL_DEVICE_TYPE);
        DeviceType type = (typeBits & CL.CL_DEVICE_TYPE_GPU) != 0 ? DeviceType.GPU
                : (typeBits & CL.CL_DEVICE_TYPE_ACCELERATOR) != 0 ? DeviceType.ACCELERATOR : DeviceType.CPU;
        String extensions = deviceString(id, CL.CL_DEVICE_EXTENSIONS);
        boolean fp64 = (" " + extensions + " ").contains(" cl_khr_fp64 ");
        return new OpenClDevice(index, platform, id, deviceString(id, CL.CL_DEVICE_NAME).trim(), platformName.trim(),
                type, deviceLong(id, CL.CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(id, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                deviceLong(id, CL.CL_DEVICE_LOCAL_MEM_SIZE), deviceSize(id, CL.CL_DEVICE_MAX_WORK_GROUP_SIZE),
                (int) deviceInt(id, CL.CL_DEVICE_MAX_COMPUTE_UNITS), fp64,
                deviceString(id, CL.CL_DEVICE_VERSION).trim(), deviceString(id, CL.CL_DRIVER_VERSION).trim());
    }

    static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        OpenClCheck.check(CL.clGetPlatformInfo(platform, param, 0, null, size), "clGetPlatformInfo");
        byte[] bytes = new byte[(int) size[0]];
        OpenClCheck.check(CL.clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null),
                "clGetPlatformInfo");
        return cString(bytes);
    }

    static String deviceString(cl_device_id id, int param) {
        long[] size = new long[1];
        OpenClCheck.check(CL.clGetDeviceInfo(id, param, 0, null, size), "clGetDeviceInfo");
        byte[] bytes = new byte[(int) size[0]];
        OpenClCheck.check(CL.clGetDeviceInfo(id, param, bytes.length, Pointer.to(bytes), null), "clGetDeviceInfo");
        return cString(bytes);
    }

    /** A {@code cl_ulong} (or {@code cl_bitfield}) device property. */
    static long deviceLong(cl_device_id id, int param) {
        long[] v = new long[1];
        OpenClCheck.check(CL.clGetDeviceInfo(id, param, Sizeof.cl_ulong, Pointer.to(v), null), "clGetDeviceInfo");
        return v[0];
    }

    /** A {@code size_t} device property. */
    static long deviceSize(cl_device_id id, int param) {
        long[] v = new long[1];
        OpenClCheck.check(CL.clGetDeviceInfo(id, param, Sizeof.size_t, Pointer.to(v), null), "clGetDeviceInfo");
        return v[0];
    }

    /** A {@code cl_uint} device property. */
    static long deviceInt(cl_device_id id, int param) {
        int[] v = new int[1];
        OpenClCheck.check(CL.clGetDeviceInfo(id, param, Sizeof.cl_uint, Pointer.to(v), null), "clGetDeviceInfo");
        return Integer.toUnsignedLong(v[0]);
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }
}
