// C[m, n] = sum_k A[m, k] * B[k, n], row-major (lda = k, ldb = ldc = n), with the products accumulated in double.
// Each operand comes as float32 parts, A = a_hi + a_lo and B = b_hi + b_lo (a null lo part is zero), so that a
// double the host computed survives the upload; C goes back as c_hi = (float) C and, when c_lo is not null,
// c_lo = (float) (C - c_hi), so that the host gets C to ~1e-14.
// Why: the exact sweep's unembeddings (A, A2, and B once per model) and its Gram products feed coefficients whose
// float32 rounding over d_model terms is amplified when one neuron dominates a position: at site mid on the demo
// model, float32 accumulation put errors at twice the project's bound (0.8 of it with this kernel).
// Launch: grid (ceil(N / 32), ceil(M / 32)), block (32, 8): each block a 32 x 32 tile of C, each thread 4 rows of
// one column, A and B staged through shared memory as in matmul.cu.
// Floor: M N K double FMAs (H100: 64 per SM per clock, ~1.5e13/s; solu-1l's B, 5.1e10 of them, once: 3.4 ms;
// A for 1024 positions: 1.7 ms).
#include "common.cuh"

#define SPLIT_TILE 32
#define SPLIT_ROWS_PER_THREAD 4

extern "C" __global__ void matmul_split_forward(float* __restrict__ c_hi, float* __restrict__ c_lo, const float* __restrict__ a_hi,
                                                const float* __restrict__ a_lo, const float* __restrict__ b_hi,
                                                const float* __restrict__ b_lo, int m, int n, int k) {
    __shared__ double as[SPLIT_TILE][SPLIT_TILE + 1];   // +1: no bank conflicts when reading a column
    __shared__ double bs[SPLIT_TILE][SPLIT_TILE];
    int col = blockIdx.x * SPLIT_TILE + threadIdx.x;
    int row0 = blockIdx.y * SPLIT_TILE + threadIdx.y * SPLIT_ROWS_PER_THREAD;
    double acc[SPLIT_ROWS_PER_THREAD] = {0.0, 0.0, 0.0, 0.0};
    for (int t = 0; t < k; t += SPLIT_TILE) {
        for (int r = threadIdx.y; r < SPLIT_TILE; r += blockDim.y) {
            int ar = blockIdx.y * SPLIT_TILE + r, ac = t + threadIdx.x;
            size_t ai = (size_t)ar * k + ac;
            as[r][threadIdx.x] = (ar < m && ac < k) ? (double)a_hi[ai] + (a_lo != nullptr ? (double)a_lo[ai] : 0.0) : 0.0;
            int br = t + r;
            size_t bi = (size_t)br * n + col;
            bs[r][threadIdx.x] = (br < k && col < n) ? (double)b_hi[bi] + (b_lo != nullptr ? (double)b_lo[bi] : 0.0) : 0.0;
        }
        __syncthreads();
        for (int kk = 0; kk < SPLIT_TILE; kk++) {
            double bv = bs[kk][threadIdx.x];
            for (int i = 0; i < SPLIT_ROWS_PER_THREAD; i++) acc[i] = fma(as[threadIdx.y * SPLIT_ROWS_PER_THREAD + i][kk], bv, acc[i]);
        }
        __syncthreads();
    }
    if (col >= n) return;
    for (int i = 0; i < SPLIT_ROWS_PER_THREAD; i++) {
        int row = row0 + i;
        if (row < m) {
            size_t ci = (size_t)row * n + col;
            float hi = (float)acc[i];
            c_hi[ci] = hi;
            if (c_lo != nullptr) c_lo[ci] = (float)(acc[i] - (double)hi);
        }
    }
}

SOLULENS_KERNEL(matmul_split_forward)
