// Elementwise kernels. Token and position embeddings of several prompts packed one after another:
//   embed[r] = W_E[tokens[r]],  pos_embed[r] = W_pos[positions[r]],  resid_pre[r] = embed[r] + pos_embed[r]
// (positions[r] is r's index inside its own prompt). One thread per element; floor 5 * 4 bytes per element.
#include "common.cuh"

extern "C" __global__ void embed_forward(float* __restrict__ embed, float* __restrict__ pos_embed, float* __restrict__ resid,
                                         const float* __restrict__ w_e, const float* __restrict__ w_pos,
                                         const int* __restrict__ tokens, const int* __restrict__ positions, int rows, int d) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)rows * d) return;
    int r = (int)(i / d), c = (int)(i % d);
    float e = w_e[(size_t)tokens[r] * d + c], p = w_pos[(size_t)positions[r] * d + c];
    embed[i] = e;
    pos_embed[i] = p;
    resid[i] = e + p;
}

// out = a + b, elementwise (the residual stream adds).
extern "C" __global__ void add_forward(float* __restrict__ out, const float* __restrict__ a, const float* __restrict__ b, long count) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) out[i] = a[i] + b[i];
}

// c[r, col] += bias[col] for an m x n block with leading dimension ldc (the bias of a cuBLAS product).
extern "C" __global__ void bias_add_forward(float* __restrict__ c, const float* __restrict__ bias, int m, int n, int ldc) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)m * n) return;
    int r = (int)(i / n), col = (int)(i % n);
    c[(size_t)r * ldc + col] += bias[col];
}

SOLULENS_KERNEL(embed_forward)
SOLULENS_KERNEL(bias_add_forward)
SOLULENS_KERNEL(add_forward)
