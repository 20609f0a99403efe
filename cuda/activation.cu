// The MLP activations, applied to hook_pre [rows, n]:
//   solu_forward:  mid = x * softmax(x) over the row (shifted by the row max, so exp never overflows);
//                  one block per row, blockDim.x a multiple of 32. Floor: 3 reads + 1 write per element.
//   gelu_forward:  x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))   (PyTorch's exact GELU)
//   gelu_new_forward: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//   relu_forward:  max(x, 0)
//   elementwise ones: one thread per element, any 1-D launch covering count.
#include "common.cuh"

extern "C" __global__ void solu_forward(float* __restrict__ mid, const float* __restrict__ pre, int rows, int n) {
    __shared__ float scratch[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* x = pre + (size_t)row * n;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, x[i]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += expf(x[i] - m);
    s = block_sum(s, scratch);
    for (int i = threadIdx.x; i < n; i += blockDim.x) mid[(size_t)row * n + i] = x[i] * (expf(x[i] - m) / s);
}

extern "C" __global__ void gelu_forward(float* __restrict__ out, const float* __restrict__ x, int count) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) out[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

extern "C" __global__ void gelu_new_forward(float* __restrict__ out, const float* __restrict__ x, int count) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) {
        float v = x[i];
        out[i] = 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    }
}

extern "C" __global__ void relu_forward(float* __restrict__ out, const float* __restrict__ x, int count) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) out[i] = fmaxf(x[i], 0.0f);
}

SOLULENS_KERNEL(solu_forward)
SOLULENS_KERNEL(gelu_forward)
SOLULENS_KERNEL(gelu_new_forward)
SOLULENS_KERNEL(relu_forward)
