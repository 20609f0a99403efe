// The corpus sweep's fold on the device (java/.../corpus/CorpusStats.java is its CPU twin): after the sweep kernel has
// written a window's Δloss [rows, neurons] into device memory, these kernels reduce it to what the host keeps per neuron,
// so that only O(neurons · k) values come back instead of rows · neurons.
//
// corpus_fold: one thread per neuron, its rows in order (the same order as the CPU fold): Neumaier-compensated sums in
//   double of d, |d|, d², a, a², a·d (pairs (sum, error) per quantity, [neurons][12]); min d, max d, max a ([neurons][3]);
//   the count of d > threshold and of non-finite d or a ([neurons][2]); the |d| histogram against the host's bin edges (found by comparison, never by a log,
//   so both sides bin alike); and the window's k largest d, k smallest d and k largest a as row indices
//   ([neurons][3][k], -1 where the window has fewer rows), ties to the lower row, as the host orders them.
//   Products are rounded before they are added (__dmul_rn): contracting them into FMAs would round differently.
// corpus_contexts: for each of those rows, d at the CONTEXT rows ending there ([neurons][3][k][context], NaN before row 0).
// Launch: grid ceil(neurons / 128), block 128. candidateValues: scratch, [neurons][3][k] doubles.
// Floor: rows · neurons pairs of ~25 double operations plus a histogram search and three insertion checks, but only
//   `neurons` threads (2048 for solu-1l: 64 warps on a whole GPU), so latency, not throughput, bounds it: ~1,000 rows
//   of dependent work a thread, ~0.2–0.3 ms per 1024-token window on an H100 (benchmarks/NOTES.md; predicted) against
//   the sweep kernel's ~24 ms for that window.
#include "common.cuh"

__device__ __forceinline__ void corpus_add(double& sum, double& error, double x) {
    double t = __dadd_rn(sum, x);
    error = __dadd_rn(error, fabs(sum) >= fabs(x) ? __dadd_rn(__dsub_rn(sum, t), x) : __dadd_rn(__dsub_rn(x, t), sum));
    sum = t;
}

// Inserts row r with value v into a list kept best-first; better(v, w): v comes before w. Equal values keep row order.
template <bool DESCENDING>
__device__ __forceinline__ void corpus_insert(double* values, int* rows, int& size, int k, double v, int r) {
    if (size == k && !(DESCENDING ? v > values[k - 1] : v < values[k - 1])) return;
    int i = size < k ? size++ : k - 1;
    while (i > 0 && (DESCENDING ? v > values[i - 1] : v < values[i - 1])) {
        values[i] = values[i - 1];
        rows[i] = rows[i - 1];
        i--;
    }
    values[i] = v;
    rows[i] = r;
}

extern "C" __global__ void corpus_fold(double* __restrict__ sums, double* __restrict__ extremes, int* __restrict__ above,
                                       int* __restrict__ histogram, int* __restrict__ candidates, double* __restrict__ candidateValues,
                                       const float* __restrict__ delta, const float* __restrict__ activation,
                                       const double* __restrict__ settings, int rows, int neurons, int bins, int k) {
    int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= neurons) return;
    double threshold = settings[0];
    const double* edges = settings + 1;   // bins lower edges, edges[0] = 0
    double s[12];
    SOLULENS_UNROLL
    for (int q = 0; q < 12; q++) s[q] = 0.0;
    double mn = INFINITY, mx = -INFINITY, amx = -INFINITY;
    int count = 0, nonFinite = 0;
    // the three lists live in this neuron's slice of global memory (a per-thread array would spill to the stack)
    int* topR = candidates + (size_t)n * 3 * k;
    int *botR = topR + k, *actR = topR + 2 * k;
    double* topV = candidateValues + (size_t)n * 3 * k;
    double *botV = topV + k, *actV = topV + 2 * k;
    int topN = 0, botN = 0, actN = 0;
    int* hist = histogram + (size_t)n * bins;
    for (int b = 0; b < bins; b++) hist[b] = 0;
    for (int p = 0; p < rows; p++) {
        double d = delta[(size_t)p * neurons + n], a = activation[(size_t)p * neurons + n];
        corpus_add(s[0], s[1], d);
        corpus_add(s[2], s[3], fabs(d));
        corpus_add(s[4], s[5], __dmul_rn(d, d));
        corpus_add(s[6], s[7], a);
        corpus_add(s[8], s[9], __dmul_rn(a, a));
        corpus_add(s[10], s[11], __dmul_rn(a, d));
        mn = fmin(mn, d);
        mx = fmax(mx, d);
        amx = fmax(amx, a);
        count += d > threshold ? 1 : 0;
        nonFinite += isfinite(d) && isfinite(a) ? 0 : 1;
        double ad = fabs(d);
        int b = 0;
        while (b + 1 < bins && ad >= edges[b + 1]) b++;
        hist[b]++;
        corpus_insert<true>(topV, topR, topN, k, d, p);
        corpus_insert<false>(botV, botR, botN, k, d, p);
        corpus_insert<true>(actV, actR, actN, k, a, p);
    }
    SOLULENS_UNROLL
    for (int q = 0; q < 12; q++) sums[(size_t)n * 12 + q] = s[q];
    extremes[(size_t)n * 3] = mn;
    extremes[(size_t)n * 3 + 1] = mx;
    extremes[(size_t)n * 3 + 2] = amx;
    above[(size_t)n * 2] = count;
    above[(size_t)n * 2 + 1] = nonFinite;
    for (int i = topN; i < k; i++) topR[i] = -1;
    for (int i = botN; i < k; i++) botR[i] = -1;
    for (int i = actN; i < k; i++) actR[i] = -1;
}

extern "C" __global__ void corpus_contexts(float* __restrict__ out, const int* __restrict__ candidates, const float* __restrict__ delta,
                                           int rows, int neurons, int k, int context) {
    int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= neurons) return;
    for (int i = 0; i < 3 * k; i++) {
        int r = candidates[(size_t)n * 3 * k + i];
        float* o = out + ((size_t)n * 3 * k + i) * context;
        for (int j = 0; j < context; j++) {
            int q = r - (context - 1) + j;
            o[j] = r >= 0 && q >= 0 && q < rows ? delta[(size_t)q * neurons + n] : NAN;
        }
    }
}

SOLULENS_KERNEL(corpus_fold)
SOLULENS_KERNEL(corpus_contexts)
