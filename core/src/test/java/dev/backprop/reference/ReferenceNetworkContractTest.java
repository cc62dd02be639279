package dev.backprop.reference;

import dev.backprop.backend.Backend;
import dev.backprop.contract.network.NetworkContractTest;

/** The network layer on the float64 reference: the maths must hold on the truth before any real backend. */
class ReferenceNetworkContractTest extends NetworkContractTest {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
