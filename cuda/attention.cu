// Causal multi-head attention over several prompts packed one after another (like varlen attention).
// For query row i of a prompt that starts at row s (length len, local position qi = i - s) and head h:
//   scores[h, qi, kj] = q[i, h] . k[s + kj, h] / attn_scale  for kj <= qi, -inf above the diagonal
//   pattern = softmax over kj,   z[i, h] = sum_kj pattern[h, qi, kj] v[s + kj, h]
// q, k, v, z are [rows, heads, d_head]; each prompt's scores and pattern are a [heads, len, len] block starting
// at score_base[i] in the score buffers. One block per (query row, head), blockDim.x a multiple of 32.
// Floor: per (row, head) 2 * (qi + 1) * d_head flops for scores and as many for z; reads of k and v dominate.
#include "common.cuh"

extern "C" __global__ void attention_forward(float* __restrict__ z, float* __restrict__ scores, float* __restrict__ pattern,
                                             const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
                                             const int* __restrict__ prompt_start, const int* __restrict__ prompt_len,
                                             const long* __restrict__ score_base, int rows, int heads, int d_head, float attn_scale) {
    __shared__ float scratch[32];
    int i = blockIdx.x, h = blockIdx.y;
    if (i >= rows) return;
    int s = prompt_start[i], len = prompt_len[i], qi = i - s;
    size_t stride = (size_t)heads * d_head;
    const float* qv = q + (size_t)i * stride + (size_t)h * d_head;
    float* sc = scores + score_base[i] + ((size_t)h * len + qi) * len;
    float* pt = pattern + score_base[i] + ((size_t)h * len + qi) * len;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < len; j += blockDim.x) {
        if (j > qi) {
            sc[j] = -INFINITY;
            continue;
        }
        const float* kv = k + (size_t)(s + j) * stride + (size_t)h * d_head;
        float dot = 0.0f;
        for (int e = 0; e < d_head; e++) dot += qv[e] * kv[e];
        sc[j] = dot / attn_scale;
        m = fmaxf(m, sc[j]);
    }
    m = block_max(m, scratch);
    float sum = 0.0f;
    for (int j = threadIdx.x; j <= qi; j += blockDim.x) sum += expf(sc[j] - m);
    sum = block_sum(sum, scratch);
    for (int j = threadIdx.x; j < len; j += blockDim.x) pt[j] = j <= qi ? expf(sc[j] - m) / sum : 0.0f;
    __syncthreads();   // every weight of this row is written before it is read below
    for (int e = threadIdx.x; e < d_head; e += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j <= qi; j++) acc += pt[j] * v[(size_t)(s + j) * stride + (size_t)h * d_head + e];
        z[(size_t)i * stride + (size_t)h * d_head + e] = acc;
    }
}

SOLULENS_KERNEL(attention_forward)
