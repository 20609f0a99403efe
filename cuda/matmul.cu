// C[m, n] = sum_k A[m, k] * B[k, n] (+ bias[n]), all row-major with leading dimensions lda, ldb, ldc
// (so a head's slice of W_Q or of q can be addressed in place). The fallback for machines where cuBLAS
// does not load; cuBLAS does the same products when it does.
// Launch: grid (ceil(N / 32), ceil(M / 32)), block (32, 8): each block computes a 32 x 32 tile of C, each
// thread 4 rows of one column, staging 32 x 32 tiles of A and B through shared memory.
// Floor: 2 M N K flops; with 32 x 32 tiles each element of A and B is read from global memory N/32 and
// M/32 times.
#include "common.cuh"

#define TILE 32
#define ROWS_PER_THREAD 4

extern "C" __global__ void matmul_forward(float* __restrict__ c, const float* __restrict__ a, const float* __restrict__ b,
                                          const float* __restrict__ bias, int m, int n, int k, int lda, int ldb, int ldc) {
    __shared__ float as[TILE][TILE + 1];   // +1: no bank conflicts when reading a column
    __shared__ float bs[TILE][TILE];
    int col = blockIdx.x * TILE + threadIdx.x;
    int row0 = blockIdx.y * TILE + threadIdx.y * ROWS_PER_THREAD;
    float acc[ROWS_PER_THREAD] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int t = 0; t < k; t += TILE) {
        for (int r = threadIdx.y; r < TILE; r += blockDim.y) {
            int ar = blockIdx.y * TILE + r, ac = t + threadIdx.x;
            as[r][threadIdx.x] = (ar < m && ac < k) ? a[(size_t)ar * lda + ac] : 0.0f;
            int br = t + r;
            bs[r][threadIdx.x] = (br < k && col < n) ? b[(size_t)br * ldb + col] : 0.0f;
        }
        __syncthreads();
        for (int kk = 0; kk < TILE; kk++) {
            float bv = bs[kk][threadIdx.x];
            for (int i = 0; i < ROWS_PER_THREAD; i++) acc[i] += as[threadIdx.y * ROWS_PER_THREAD + i][kk] * bv;
        }
        __syncthreads();
    }
    if (col >= n) return;
    for (int i = 0; i < ROWS_PER_THREAD; i++) {
        int row = row0 + i;
        if (row < m) c[(size_t)row * ldc + col] = acc[i] + (bias != nullptr ? bias[col] : 0.0f);
    }
}

SOLULENS_KERNEL(matmul_forward)
