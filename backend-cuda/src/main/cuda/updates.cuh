// The per-element optimizer steps, shared by the one-tensor kernels (updates.cu) and the multi-tensor ones
// (fused.cu), so both compute the same float operations. Formulas of the Backend Javadoc (PyTorch's SGD and
// Adam/AdamW); scalars arrive as doubles and are rounded to the parameter dtype once.
#pragma once
#include "common.cuh"

template <typename T>
__device__ void sgd_update_body(i64 n, T* param, const T* grad, T* velocity, double lr, double momentum,
                         double weight_decay, int nesterov) {
    const T lr_t = (T) lr, mu = (T) momentum, wd = (T) weight_decay;
    GRID_STRIDE(i, n) {
        const T theta = param[i];
        const T g = grad[i] + wd * theta;
        T d = g;
        if (velocity != nullptr) {
            const T v = mu * velocity[i] + g;
            velocity[i] = v;
            d = nesterov ? g + mu * v : v;
        }
        param[i] = theta - lr_t * d;
    }
}
// bias1 = 1 - beta1^step and bias2 = 1 - beta2^step, from the host in float64.
template <typename T>
__device__ void adam_update_body(i64 n, T* param, const T* grad, T* m, T* v, double lr, double beta1, double beta2,
                          double eps, double weight_decay, int decoupled, double bias1, double bias2) {
    const T lr_t = (T) lr, b1 = (T) beta1, b2 = (T) beta2, eps_t = (T) eps, wd = (T) weight_decay;
    const T one_b1 = (T) (1.0 - beta1), one_b2 = (T) (1.0 - beta2);
    const T bc1 = (T) bias1, bc2 = (T) bias2;
    const T shrink = (T) (1.0 - lr * weight_decay);
    GRID_STRIDE(i, n) {
        T theta = param[i];
        T g = grad[i];
        if (decoupled) {
            theta = theta * shrink;
        } else {
            g = g + wd * theta;
        }
        const T mi = b1 * m[i] + one_b1 * g;
        const T vi = b2 * v[i] + one_b2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = theta - lr_t * (mi / bc1) / (d_sqrt(vi / bc2) + eps_t);
    }
}
