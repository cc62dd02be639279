package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.contract.network.CrossBackendTrainingTest;

/** 200 seeded training steps on {@code cpu} and {@code opencl} agree (the shared cross-backend check). */
class OpenClCrossBackendTest extends CrossBackendTrainingTest {
    @Override
    protected Backend createCandidate() {
        return OpenClTestSupport.create();
    }
}
