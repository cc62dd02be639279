// The optimizer kernels of one parameter tensor each, one thread per element in a grid-stride loop (per-element
// steps in updates.cuh). Bias corrections are computed on the host.
#include "common.cuh"
#include "updates.cuh"

extern "C" __global__ void sgd_update_f32(i64 n, float* param, const float* grad, float* velocity, double lr,
                                   double momentum, double weight_decay, int nesterov) {
    sgd_update_body<float>(n, param, grad, velocity, lr, momentum, weight_decay, nesterov);
}
extern "C" __global__ void sgd_update_f64(i64 n, double* param, const double* grad, double* velocity, double lr,
                                   double momentum, double weight_decay, int nesterov) {
    sgd_update_body<double>(n, param, grad, velocity, lr, momentum, weight_decay, nesterov);
}

extern "C" __global__ void adam_update_f32(i64 n, float* param, const float* grad, float* m, float* v, double lr,
                                    double beta1, double beta2, double eps, double weight_decay, int decoupled,
                                    double bias1, double bias2) {
    adam_update_body<float>(n, param, grad, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, bias1, bias2);
}
extern "C" __global__ void adam_update_f64(i64 n, double* param, const double* grad, double* m, double* v, double lr,
                                    double beta1, double beta2, double eps, double weight_decay, int decoupled,
                                    double bias1, double bias2) {
    adam_update_body<double>(n, param, grad, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, bias1, bias2);
}
