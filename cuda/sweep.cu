// The exact all-(position, neuron) ablation sweep (DESIGN.md, "Exact ablation in a one-layer model").
// Ablating neuron n at position p moves that position's logits from l to l' = l + d with
//   d[v] = dα·A[p, v] + dγ·A2[p, v] + δ·B[n, v]         (dα = α' - α, dγ = γ' - γ; A2 only at site mid)
// so, with q = softmax(l) the clean next-token distribution and t the target,
//   Δloss(p, n) = log Σ_v q[v] exp(d[v]) - d[t].
// Working with d, not l', keeps float32 accurate: d is small where Δloss is small, and the clean terms cancel
// exactly instead of in rounding.
//
// sweep_clean_probs: q[p] = softmax(α0 A[p] + γ0 A2[p] + β); one block per position.
// sweep_forward: one launch for every pair of a chunk of positions; grid (ceil(P / 4), ceil(N / 32)), 256 threads.
//   A block owns POSITIONS positions x NEURONS neurons; it streams the vocabulary through shared memory in CHUNK-wide slices of q, A, A2, and each
//   row of B it reads serves all its positions. Each warp owns NEURONS / 8 neurons, each lane a strided share of
//   the slice, and keeps a running (max, sum) per (position, neuron) so exp never overflows; lanes then combine.
//   Floor: P·N·V exponentials (H100: ~16 ex2 per SM per clock, ~4e12/s) and P·N·V·4 / POSITIONS bytes of B.
#include "common.cuh"

#define SWEEP_POSITIONS 4
#define SWEEP_NEURONS 32
#define SWEEP_THREADS 256
#define SWEEP_CHUNK 256
#define SWEEP_PER_WARP (SWEEP_NEURONS / (SWEEP_THREADS / 32))

extern "C" __global__ void sweep_clean_probs(float* __restrict__ probs, const float* __restrict__ a, const float* __restrict__ a2,
                                             const float* __restrict__ beta, const float* __restrict__ alpha0,
                                             const float* __restrict__ gamma0, int rows, int vocab) {
    __shared__ float scratch[32];
    int p = blockIdx.x;
    if (p >= rows) return;
    const float* ap = a + (size_t)p * vocab;
    const float* a2p = a2 == nullptr ? nullptr : a2 + (size_t)p * vocab;
    float al = alpha0[p], ga = gamma0[p];
    float m = -INFINITY;
    for (int v = threadIdx.x; v < vocab; v += blockDim.x) m = fmaxf(m, al * ap[v] + (a2p ? ga * a2p[v] : 0.0f) + beta[v]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int v = threadIdx.x; v < vocab; v += blockDim.x) s += expf(al * ap[v] + (a2p ? ga * a2p[v] : 0.0f) + beta[v] - m);
    s = block_sum(s, scratch);
    for (int v = threadIdx.x; v < vocab; v += blockDim.x)
        probs[(size_t)p * vocab + v] = expf(al * ap[v] + (a2p ? ga * a2p[v] : 0.0f) + beta[v] - m) / s;
}

// Adds weight * exp(x) to the running pair (m, s) that stands for s * exp(m).
__device__ __forceinline__ void lse_add(float& m, float& s, float x, float weight) {
    if (x > m) {
        s = s * expf(m - x) + weight;
        m = x;
    } else {
        s += weight * expf(x - m);
    }
}

extern "C" __global__ void __launch_bounds__(SWEEP_THREADS)
sweep_forward(float* __restrict__ delta, const float* __restrict__ probs, const float* __restrict__ a, const float* __restrict__ a2,
              const float* __restrict__ b, const float* __restrict__ coef, const int* __restrict__ targets,
              const int* __restrict__ selected, int rows, int neurons, int vocab) {
    __shared__ float sq[SWEEP_POSITIONS][SWEEP_CHUNK];
    __shared__ float sa[SWEEP_POSITIONS][SWEEP_CHUNK];
    __shared__ float sa2[SWEEP_POSITIONS][SWEEP_CHUNK];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    // grid.x walks positions, grid.y neurons: blocks launched one after another share their rows of B, which
    // then come from L2 rather than device memory.
    int p0 = blockIdx.x * SWEEP_POSITIONS, n0 = blockIdx.y * SWEEP_NEURONS + warp * SWEEP_PER_WARP;
    float ca[SWEEP_POSITIONS][SWEEP_PER_WARP], cg[SWEEP_POSITIONS][SWEEP_PER_WARP], cd[SWEEP_POSITIONS][SWEEP_PER_WARP];
    float m[SWEEP_POSITIONS][SWEEP_PER_WARP], s[SWEEP_POSITIONS][SWEEP_PER_WARP];
    SOLULENS_UNROLL
    for (int t = 0; t < SWEEP_POSITIONS; t++) {
        SOLULENS_UNROLL
        for (int k = 0; k < SWEEP_PER_WARP; k++) {
            int p = p0 + t, n = n0 + k;
            bool valid = p < rows && n < neurons;
            size_t c = ((size_t)p * neurons + n) * 3;
            ca[t][k] = valid ? coef[c] : 0.0f;
            cg[t][k] = valid ? coef[c + 1] : 0.0f;
            cd[t][k] = valid ? coef[c + 2] : 0.0f;
            m[t][k] = -INFINITY;
            s[t][k] = 0.0f;
        }
    }
    for (int v0 = 0; v0 < vocab; v0 += SWEEP_CHUNK) {
        __syncthreads();   // the previous slice is no longer read
        SOLULENS_UNROLL
        for (int t = 0; t < SWEEP_POSITIONS; t++) {
            int p = p0 + t, v = v0 + threadIdx.x;
            bool in = p < rows && v < vocab && threadIdx.x < SWEEP_CHUNK;
            size_t i = (size_t)p * vocab + v;
            sq[t][threadIdx.x] = in ? probs[i] : 0.0f;
            sa[t][threadIdx.x] = in ? a[i] : 0.0f;
            sa2[t][threadIdx.x] = in && a2 != nullptr ? a2[i] : 0.0f;
        }
        __syncthreads();
        int width = min(SWEEP_CHUNK, vocab - v0);
        SOLULENS_UNROLL
        for (int k = 0; k < SWEEP_PER_WARP; k++) {
            int n = n0 + k;
            if (n < neurons) {
                const float* bn = b + (size_t)n * vocab + v0;
                for (int j = lane; j < width; j += 32) {
                    float bv = bn[j];
                    SOLULENS_UNROLL
                    for (int t = 0; t < SWEEP_POSITIONS; t++) {
                        float d = ca[t][k] * sa[t][j] + cg[t][k] * sa2[t][j] + cd[t][k] * bv;
                        lse_add(m[t][k], s[t][k], d, sq[t][j]);
                    }
                }
            }
        }
    }
    SOLULENS_UNROLL
    for (int t = 0; t < SWEEP_POSITIONS; t++) {
        SOLULENS_UNROLL
        for (int k = 0; k < SWEEP_PER_WARP; k++) {
            float mt = m[t][k], st = s[t][k];
            for (int o = 16; o > 0; o >>= 1) {
                float mo = __shfl_xor_sync(0xffffffffu, mt, o), so = __shfl_xor_sync(0xffffffffu, st, o);
                float mx = fmaxf(mt, mo);
                st = (mt == -INFINITY ? 0.0f : st * expf(mt - mx)) + (mo == -INFINITY ? 0.0f : so * expf(mo - mx));
                mt = mx;
            }
            int p = p0 + t, n = n0 + k;
            if (lane == 0 && p < rows && n < neurons) {
                size_t pair = (size_t)p * neurons + n;
                int target = targets[p];
                size_t i = (size_t)p * vocab + target;
                float dt = ca[t][k] * a[i] + cg[t][k] * (a2 != nullptr ? a2[i] : 0.0f) + cd[t][k] * b[(size_t)n * vocab + target];
                delta[pair] = (selected == nullptr || selected[pair]) ? mt + logf(st) - dt : NAN;
            }
        }
    }
}

SOLULENS_KERNEL(sweep_clean_probs)
SOLULENS_KERNEL(sweep_forward)

// The batched re-forward baseline of the sweep (what the exact kernel is measured against): for one position,
// every ablation's resid_post row, rows[n] = resid - c[n] * w_out[n], for the final LayerNorm, the unembedding
// (a matrix product) and the cross-entropy to follow. One thread per element of the [neurons, d_model] rows.
extern "C" __global__ void ablate_rows_forward(float* __restrict__ rows, const float* __restrict__ resid, const float* __restrict__ w_out,
                                               const float* __restrict__ c, int neurons, int d_model) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)neurons * d_model) return;
    int n = (int)(i / d_model), d = (int)(i % d_model);
    rows[i] = resid[d] - c[n] * w_out[i];
}

SOLULENS_KERNEL(ablate_rows_forward)
