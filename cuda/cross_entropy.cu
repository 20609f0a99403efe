// Per-token next-token cross-entropy: loss[r] = logsumexp(logits[r]) - logits[r, targets[r]];
// rows whose target is -1 (the last position of each prompt) are skipped.
// One block per row, blockDim.x a multiple of 32. Floor: two reads of the row (max, then sum of exp).
#include "common.cuh"

extern "C" __global__ void cross_entropy_forward(float* __restrict__ loss, const float* __restrict__ logits,
                                                 const int* __restrict__ targets, int rows, int vocab) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    if (r >= rows || targets[r] < 0) return;
    const float* x = logits + (size_t)r * vocab;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, x[i]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) s += expf(x[i] - m);
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) loss[r] = m + logf(s) - x[targets[r]];
}

SOLULENS_KERNEL(cross_entropy_forward)
