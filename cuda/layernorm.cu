// LayerNorm over the last dimension, as TransformerLens computes it:
//   mean = sum(x) / n,  scale = sqrt(sum((x - mean)^2) / n + eps),  normalized = (x - mean) / scale,
//   out = w * normalized + b   (w, b null: LNPre, out = normalized).
// It also writes `normalized` (TransformerLens 3.x's hook_normalized) and `scale` (hook_scale).
// Launch: one block per row, blockDim.x a multiple of 32 (128 used); each thread strides over the row.
// Floor: 3 reads of x and 2 writes per element (memory bound): rows * n * 20 bytes.
// Two passes over x (mean, then the centred sum of squares) keep the variance accurate when it is tiny
// next to the mean: in solu-1l's MLP LayerNorm the variance is ~1% of eps.
#include "common.cuh"

extern "C" __global__ void layernorm_forward(float* __restrict__ out, float* __restrict__ normalized, float* __restrict__ scale,
                                             const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                                             int rows, int n, float eps) {
    __shared__ float scratch[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (size_t)row * n;
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += xr[i];
    float mean = block_sum(s, scratch) / n;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float c = xr[i] - mean;
        ss += c * c;
    }
    float sc = sqrtf(block_sum(ss, scratch) / n + eps);
    if (threadIdx.x == 0) scale[row] = sc;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = (xr[i] - mean) / sc;
        normalized[(size_t)row * n + i] = v;
        out[(size_t)row * n + i] = w == nullptr ? v : v * w[i] + b[i];
    }
}

SOLULENS_KERNEL(layernorm_forward)
