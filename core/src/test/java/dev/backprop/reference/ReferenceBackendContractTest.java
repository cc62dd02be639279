package dev.backprop.reference;

import dev.backprop.backend.Backend;
import dev.backprop.contract.BackendContractTest;

/** The contract run on the reference itself: keeps the harness honest (every case must pass on the truth). */
class ReferenceBackendContractTest extends BackendContractTest {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
