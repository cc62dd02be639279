package dev.backprop.reference;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Capabilities;
import dev.backprop.contract.network.NetworkContractTest;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * The network contract on a reference backend that declares no FLOAT64 (as some OpenCL devices do): every
 * FLOAT32 case must still run and pass, and the FLOAT64 ones must be skipped with the reason rather than fail.
 */
class ReferenceFloat32OnlyNetworkContractTest extends NetworkContractTest {
    @Override
    protected Backend createBackend() {
        Backend reference = new ReferenceBackend();
        Capabilities c = reference.capabilities();
        Capabilities noF64 = new Capabilities(false, c.threadSafe(), c.details());
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("capabilities")) {
                        return noF64;
                    }
                    try {
                        return method.invoke(reference, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
