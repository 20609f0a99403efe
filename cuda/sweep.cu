// The exact all-(position, neuron) ablation sweep (docs/design.md, "Why the exact sweep is cheap").
// Ablating neuron n at position p moves that position's logits from l to l' = l + d with
//   d[v] = dα·A[p, v] + dγ·A2[p, v] + δ·B[n, v]         (dα = α' - α, dγ = γ' - γ; A2 only at site mid)
// so, with q = softmax(l) the clean next-token distribution and t the target,
//   Δloss(p, n) = log Σ_v q[v] exp(d[v]) - d[t].
// Working with d, not l', keeps float32 accurate: d is small where Δloss is small, and the clean terms cancel
// exactly instead of in rounding.
//
// sweep_clean_log2probs: log2 q[p] with q[p] = softmax(α0 A[p] + γ0 A2[p] + β), written with A (and A2) as the
//   records the sweep stages; one block per position.
// row_absmax: max_v |x[r, v]| per row (of A, A2 and B); one block per row. They bound |d| for every pair.
// interleave_rows4: B's rows four by four, so that a lane loads four neurons' values with one 16-byte load.
// sweep_forward: one launch for every pair of a chunk of positions; grid (ceil(P / 4), ceil(N / 32)), 256 threads.
//   A block owns POSITIONS positions x NEURONS neurons and streams the vocabulary through shared memory in
//   CHUNK-wide slices of records {log2 q, A (, A2)}. Each warp owns NEURONS / 8 = 4 neurons, each lane a strided
//   share of the slice: each 16-byte load of B (4 neurons) serves the 4 positions, and each record it reads from
//   shared memory (one load) serves its 4 neurons.
//   Each element's term is 2^e with e = log2 q[v] + d[v] log2 e (the coefficients are scaled by log2 e once): two or
//   three FMAs, one ex2, one add. No running maximum is needed when |d log2 e| ≤ shiftFreeLimit for every pair of the
//   block, where |d| ≤ |dα| max|A[p]| + |dγ| max|A2[p]| + |δ| max|B[n]|: with the limit 64, e ≤ 64 cannot overflow,
//   and the sum is at least 2^-64 (Σ q = 1), so the terms that underflow (< 2^-126) do not matter. A block with a pair
//   past the limit keeps a running (max, sum) per pair instead (a subtraction and a compare more per element, and a
//   rare branch to rescale); shiftFreeLimit < 0 forces that everywhere.
// sweep_forward_poly: the same, with one element in 16 computing its exponential as a polynomial on the FMA units
//   (poly_exp2, as FlashAttention-4 does) instead of on the special-function units.
// Floor: P·N·V exponentials (H100/H200: 16 ex2 per SM per clock; 1.0e11 for solu-1l at 1024 tokens: 24 ms at
//   1.98 GHz). benchmarks/sass_model.py counts what the compiled inner loops issue per element against that, and
//   benchmarks/NOTES.md keeps its table, the prediction, and what a GPU measured.
#include "common.cuh"
#include "exp2.cuh"

#define SWEEP_POSITIONS 4
#define SWEEP_NEURONS 32
#define SWEEP_THREADS 256
#define SWEEP_CHUNK 256
#define SWEEP_PER_WARP (SWEEP_NEURONS / (SWEEP_THREADS / 32))
static_assert(SWEEP_PER_WARP == 4, "a lane loads its warp's neurons' B values as one float4 (interleave_rows4)");

#define SWEEP_LOG2E 1.4426950408889634f
#define SWEEP_LN2 0.6931471805599453f

// Base-2 log-probabilities, so that the sweep can add them to its exponents: a probability small enough to vanish
// in float32 (below 1e-38) still counts when an ablation raises its logit by 90 nats. Written as the records the
// sweep kernel stages, one per (position, vocabulary entry): {log2 q, A} at site post, {log2 q, A, A2, 0} at site mid
// (a2 given), so that staging a slice is one wide load and one wide store per position.
extern "C" __global__ void sweep_clean_log2probs(float* __restrict__ stage, const float* __restrict__ a, const float* __restrict__ a2,
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
    float log2s = log2f(s);
    int width = a2p ? 4 : 2;
    for (int v = threadIdx.x; v < vocab; v += blockDim.x) {
        float* record = stage + ((size_t)p * vocab + v) * width;
        record[0] = (al * ap[v] + (a2p ? ga * a2p[v] : 0.0f) + beta[v] - m) * SWEEP_LOG2E - log2s;
        record[1] = ap[v];
        if (a2p) {
            record[2] = a2p[v];
            record[3] = 0.0f;
        }
    }
}

// B's rows four at a time, interleaved: out[g][v] = (B[4g, v], B[4g + 1, v], B[4g + 2, v], B[4g + 3, v]) as one float4
// (rows past the last are 0), so that a lane of the sweep kernel loads its warp's four neurons' values of one
// vocabulary entry with one 16-byte load. One thread per element of out ([ceil(rows / 4)][cols][4]).
extern "C" __global__ void interleave_rows4(float* __restrict__ out, const float* __restrict__ in, int rows, int cols) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    long groups = (rows + 3) / 4;
    if (i >= groups * cols * 4) return;
    long g = i / ((long)cols * 4), c = i / 4 % cols;
    int r = (int)(g * 4 + i % 4);
    out[i] = r < rows ? in[(size_t)r * cols + c] : 0.0f;
}

extern "C" __global__ void row_absmax(float* __restrict__ out, const float* __restrict__ x, int rows, int cols) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    if (r >= rows) return;
    float m = 0.0f;
    for (int v = threadIdx.x; v < cols; v += blockDim.x) m = fmaxf(m, fabsf(x[(size_t)r * cols + v]));
    m = block_max(m, scratch);
    if (threadIdx.x == 0) out[r] = m;
}

// What a block stages per (position, vocabulary entry) of a slice: log2 q and A, and A2 at site mid, side by side
// so that one shared load (LDS.64 or LDS.128) fetches all of them.
template <bool HAS_A2>
struct SweepSlot {
    typedef float2 type;
};
template <>
struct SweepSlot<true> {
    typedef float4 type;
};

// The whole vocabulary for one block, slice by slice: every element for each warp's neurons at the block's positions.
// ONLINE keeps a running maximum m per pair (s stands for s·2^m); otherwise s is the plain sum of 2^e.
// The inner loop is what the sweep's time is made of (benchmarks/sass_model.py counts it): per element two or
// three FMAs, one ex2 and one add (ONLINE: a subtraction and a compare more); per iteration one 16-byte load of B
// (the warp's four neurons, interleaved), one shared load per position, and the loop's own few instructions.
template <bool HAS_A2, bool ONLINE, bool POLY>
__device__ __forceinline__ void sweep_pass(typename SweepSlot<HAS_A2>::type (&stage)[SWEEP_POSITIONS][SWEEP_CHUNK],
                                           const float* __restrict__ records, const float4* __restrict__ b4, int p0, int n0,
                                           int rows, int neurons, int vocab, const float (&ca)[SWEEP_POSITIONS][SWEEP_PER_WARP],
                                           const float (&cg)[SWEEP_POSITIONS][SWEEP_PER_WARP],
                                           const float (&cd)[SWEEP_POSITIONS][SWEEP_PER_WARP], float (&m)[SWEEP_POSITIONS][SWEEP_PER_WARP],
                                           float (&s)[SWEEP_POSITIONS][SWEEP_PER_WARP]) {
    typedef typename SweepSlot<HAS_A2>::type Slot;
    const Slot* slots = reinterpret_cast<const Slot*>(records);
    int lane = threadIdx.x % 32;
    // A warp past the last neuron (d_mlp not a multiple of 32) reads the last group instead: its coefficients are 0.
    int group = min(n0 / SWEEP_PER_WARP, (neurons + SWEEP_PER_WARP - 1) / SWEEP_PER_WARP - 1);
    const float4* bBase = b4 + (size_t)group * vocab + lane;
    for (int v0 = 0; v0 < vocab; v0 += SWEEP_CHUNK) {
        __syncthreads();   // the previous slice is no longer read
        if (threadIdx.x < SWEEP_CHUNK) {
            SOLULENS_UNROLL
            for (int t = 0; t < SWEEP_POSITIONS; t++) {
                int p = p0 + t, v = v0 + threadIdx.x;
                Slot slot;
                if (p < rows && v < vocab) {
                    slot = slots[(size_t)p * vocab + v];
                } else {
                    slot.x = -INFINITY;
                    slot.y = 0.0f;
                    if constexpr (HAS_A2) slot.z = slot.w = 0.0f;
                }
                stage[t][threadIdx.x] = slot;
            }
        }
        __syncthreads();
        int width = min(SWEEP_CHUNK, vocab - v0);
        const float4* bp = bBase + v0;
        for (int j = lane; j < width; j += 32, bp += 32) {
            float4 b = *bp;
            float bv[SWEEP_PER_WARP] = {b.x, b.y, b.z, b.w};
            // Two positions at a time: the online path's exponents, compare and rare branch fit in the registers then.
            SOLULENS_UNROLL
            for (int t0 = 0; t0 < SWEEP_POSITIONS; t0 += 2) {
                // e = log2 q + d log2 e: the base-2 exponent of each element's term q·exp(d)
                float e[2][SWEEP_PER_WARP];
                SOLULENS_UNROLL
                for (int u = 0; u < 2; u++) {
                    Slot slot = stage[t0 + u][j];
                    SOLULENS_UNROLL
                    for (int k = 0; k < SWEEP_PER_WARP; k++) {
                        e[u][k] = fmaf(cd[t0 + u][k], bv[k], fmaf(ca[t0 + u][k], slot.y, slot.x));
                        if constexpr (HAS_A2) e[u][k] = fmaf(cg[t0 + u][k], slot.z, e[u][k]);
                    }
                }
                if constexpr (ONLINE) {
                    // Exponents relative to each pair's running maximum. A new maximum (rare after the first few
                    // elements) rescales in a branch the 8 elements take together, so that the common path issues
                    // one ex2 an element and nothing for the rescaling.
                    bool anyAbove = false;
                    SOLULENS_UNROLL
                    for (int u = 0; u < 2; u++) {
                        SOLULENS_UNROLL
                        for (int k = 0; k < SWEEP_PER_WARP; k++) {
                            e[u][k] -= m[t0 + u][k];
                            anyAbove |= e[u][k] > 0.0f;
                        }
                    }
                    if (anyAbove) {
                        SOLULENS_UNROLL
                        for (int u = 0; u < 2; u++) {
                            SOLULENS_UNROLL
                            for (int k = 0; k < SWEEP_PER_WARP; k++) {
                                // the exponent, recomputed absolute: compared with m (not e > 0 again, which the
                                // compiler would then evaluate on the common path too), and m + e would be NaN at m = -inf
                                int t = t0 + u;
                                Slot slot = stage[t][j];
                                float mx = fmaf(cd[t][k], bv[k], fmaf(ca[t][k], slot.y, slot.x));
                                if constexpr (HAS_A2) mx = fmaf(cg[t][k], slot.z, mx);
                                if (mx > m[t][k]) {
                                    s[t][k] *= hw_exp2(m[t][k] - mx);   // 0 while s is still empty (m = -inf)
                                    m[t][k] = mx;
                                    e[u][k] = 0.0f;
                                }
                            }
                        }
                    }
                }
                SOLULENS_UNROLL
                for (int u = 0; u < 2; u++) {
                    SOLULENS_UNROLL
                    for (int k = 0; k < SWEEP_PER_WARP; k++) {
                        // POLY: one element in 16 on the FMA units (benchmarks/NOTES.md, "the sweep kernel against a SASS model")
                        s[t0 + u][k] += !ONLINE && POLY && t0 + u == 0 && k == 0 ? poly_exp2(e[u][k]) : hw_exp2(e[u][k]);
                    }
                }
            }
        }
    }
}

template <bool HAS_A2, bool POLY>
__device__ __forceinline__ void sweep_block(float* __restrict__ delta, const float* __restrict__ records, const float* __restrict__ a,
                                            const float* __restrict__ a2, const float4* __restrict__ b4, const float* __restrict__ coef,
                                            const int* __restrict__ targets, const int* __restrict__ selected,
                                            const float* __restrict__ absA, const float* __restrict__ absA2, const float* __restrict__ absB,
                                            float shiftFreeLimit, int rows, int neurons, int vocab) {
    __shared__ typename SweepSlot<HAS_A2>::type stage[SWEEP_POSITIONS][SWEEP_CHUNK];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    // grid.x walks positions, grid.y neurons: blocks launched one after another share their rows of B, which
    // then come from L2 rather than device memory.
    int p0 = blockIdx.x * SWEEP_POSITIONS, n0 = blockIdx.y * SWEEP_NEURONS + warp * SWEEP_PER_WARP;
    float ca[SWEEP_POSITIONS][SWEEP_PER_WARP], cg[SWEEP_POSITIONS][SWEEP_PER_WARP], cd[SWEEP_POSITIONS][SWEEP_PER_WARP];
    float m[SWEEP_POSITIONS][SWEEP_PER_WARP], s[SWEEP_POSITIONS][SWEEP_PER_WARP];
    float bound = 0.0f;
    SOLULENS_UNROLL
    for (int t = 0; t < SWEEP_POSITIONS; t++) {
        SOLULENS_UNROLL
        for (int k = 0; k < SWEEP_PER_WARP; k++) {
            int p = p0 + t, n = n0 + k;
            bool valid = p < rows && n < neurons;
            size_t c = ((size_t)p * neurons + n) * 3;
            ca[t][k] = valid ? coef[c] * SWEEP_LOG2E : 0.0f;
            cg[t][k] = valid ? coef[c + 1] * SWEEP_LOG2E : 0.0f;
            cd[t][k] = valid ? coef[c + 2] * SWEEP_LOG2E : 0.0f;
            if (valid) bound = fmaxf(bound, fabsf(ca[t][k]) * absA[p] + (HAS_A2 ? fabsf(cg[t][k]) * absA2[p] : 0.0f) + fabsf(cd[t][k]) * absB[n]);
            m[t][k] = -INFINITY;
            s[t][k] = 0.0f;
        }
    }
    // One path for the whole block, so that its barriers stay uniform: shift-free unless some pair's bound is past
    // the limit (a NaN bound also takes the running maximum).
    __shared__ int anyPastLimit;
    if (threadIdx.x == 0) anyPastLimit = 0;
    __syncthreads();
    if (lane == 0 && !(bound <= shiftFreeLimit)) atomicMax(&anyPastLimit, 1);
    __syncthreads();
    bool online = anyPastLimit != 0;
    if (online) {
        sweep_pass<HAS_A2, true, false>(stage, records, b4, p0, n0, rows, neurons, vocab, ca, cg, cd, m, s);
    } else {
        sweep_pass<HAS_A2, false, POLY>(stage, records, b4, p0, n0, rows, neurons, vocab, ca, cg, cd, m, s);
    }
    SOLULENS_UNROLL
    for (int t = 0; t < SWEEP_POSITIONS; t++) {
        SOLULENS_UNROLL
        for (int k = 0; k < SWEEP_PER_WARP; k++) {
            float mt = m[t][k], st = s[t][k];
            for (int o = 16; o > 0; o >>= 1) {
                if (online) {
                    float mo = __shfl_xor_sync(0xffffffffu, mt, o), so = __shfl_xor_sync(0xffffffffu, st, o);
                    float mx = fmaxf(mt, mo);
                    st = (mt == -INFINITY ? 0.0f : st * hw_exp2(mt - mx)) + (mo == -INFINITY ? 0.0f : so * hw_exp2(mo - mx));
                    mt = mx;
                } else {
                    st += __shfl_xor_sync(0xffffffffu, st, o);
                }
            }
            int p = p0 + t, n = n0 + k;
            if (lane == 0 && p < rows && n < neurons) {
                size_t pair = (size_t)p * neurons + n, c = pair * 3;
                size_t i = (size_t)p * vocab + targets[p];
                const float* bt = reinterpret_cast<const float*>(b4 + (size_t)(n / SWEEP_PER_WARP) * vocab + targets[p]);
                float dt = coef[c] * a[i] + (HAS_A2 ? coef[c + 1] * a2[i] : 0.0f) + coef[c + 2] * bt[n % SWEEP_PER_WARP];
                float logSum = (online ? mt + log2f(st) : log2f(st)) * SWEEP_LN2;
                delta[pair] = (selected == nullptr || selected[pair]) ? logSum - dt : NAN;
            }
        }
    }
}

// At most 128 registers a thread, so that two blocks (16 warps) share an SM: ptxas fits both variants without spills.
#define SWEEP_KERNEL(name, poly)                                                                                                   \
    extern "C" __global__ void __launch_bounds__(SWEEP_THREADS, 2)                                                                 \
    name(float* __restrict__ delta, const float* __restrict__ records, const float* __restrict__ a, const float* __restrict__ a2,       \
         const float* __restrict__ b, const float* __restrict__ coef, const int* __restrict__ targets,                             \
         const int* __restrict__ selected, const float* __restrict__ absA, const float* __restrict__ absA2,                        \
         const float* __restrict__ absB, float shiftFreeLimit, int rows, int neurons, int vocab) {                                 \
        if (a2 != nullptr) {                                                                                                       \
            sweep_block<true, poly>(delta, records, a, a2, reinterpret_cast<const float4*>(b), coef, targets, selected, absA, absA2, absB, shiftFreeLimit, rows,      \
                                    neurons, vocab);                                                                               \
        } else {                                                                                                                   \
            sweep_block<false, poly>(delta, records, a, a2, reinterpret_cast<const float4*>(b), coef, targets, selected, absA, absA2, absB, shiftFreeLimit, rows,     \
                                     neurons, vocab);                                                                              \
        }                                                                                                                          \
    }

SWEEP_KERNEL(sweep_forward, false)
SWEEP_KERNEL(sweep_forward_poly, true)

SOLULENS_KERNEL(sweep_clean_log2probs)
SOLULENS_KERNEL(sweep_forward)
SOLULENS_KERNEL(sweep_forward_poly)
SOLULENS_KERNEL(row_absmax)
SOLULENS_KERNEL(interleave_rows4)

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
