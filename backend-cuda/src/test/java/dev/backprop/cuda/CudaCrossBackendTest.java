package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.contract.network.CrossBackendTrainingTest;

/**
 * 200 seeded training steps on {@code cpu} and {@code cuda} agree (the shared cross-backend check); skipped with
 * the probe's reason without a usable GPU.
 */
class CudaCrossBackendTest extends CrossBackendTrainingTest {
    @Override
    protected Backend createCandidate() {
        return CudaTestSupport.createOrSkip();
    }
}
