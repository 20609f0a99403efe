// Kernels that test the emulator itself (compiled into the emulator only, never into the fatbin).
//   emutest_block_sum: a shared-memory tree reduction of blockDim.x values per block (blockDim.x a power of 2);
//   emutest_block_sum_missing_barrier: the same with the barrier inside the loop left out, which is wrong on a
//     GPU and must be wrong here too;
//   emutest_shuffles: per lane, __shfl_xor_sync(v, 1), __shfl_down_sync(v, 3) and __shfl_sync(v, 5);
//   emutest_atomic_sum: every thread of every block adds its value to one float and counts itself in one int;
//   emutest_divergent_barrier: half a block returns before a __syncthreads() (undefined on a GPU; an error here).
#include "common.cuh"

extern "C" __global__ void emutest_block_sum(float* out, const float* in) {
    SOLULENS_DYNAMIC_SHARED(float, s);
    unsigned t = threadIdx.x;
    s[t] = in[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half) s[t] += s[t + half];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}

extern "C" __global__ void emutest_block_sum_missing_barrier(float* out, const float* in) {
    SOLULENS_DYNAMIC_SHARED(float, s);
    unsigned t = threadIdx.x;
    s[t] = in[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half) s[t] += s[t + half];
        // the barrier that belongs here is missing
    }
    if (t == 0) out[blockIdx.x] = s[0];
}

extern "C" __global__ void emutest_shuffles(float* out, const float* in) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = in[i];
    out[3 * i] = __shfl_xor_sync(0xffffffffu, v, 1);
    out[3 * i + 1] = __shfl_down_sync(0xffffffffu, v, 3);
    out[3 * i + 2] = __shfl_sync(0xffffffffu, v, 5);
}

extern "C" __global__ void emutest_atomic_sum(float* sum, int* count, const float* in) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    atomicAdd(sum, in[i]);
    atomicAdd(count, 1);
}

extern "C" __global__ void emutest_divergent_barrier(float* out) {
    if (threadIdx.x < blockDim.x / 2) return;
    __syncthreads();
    out[threadIdx.x] = 1.0f;
}

SOLULENS_KERNEL(emutest_block_sum)
SOLULENS_KERNEL(emutest_block_sum_missing_barrier)
SOLULENS_KERNEL(emutest_shuffles)
SOLULENS_KERNEL(emutest_atomic_sum)
SOLULENS_KERNEL(emutest_divergent_barrier)

// Reads one element past the end of `in` (thread blockDim.x - 1 reads in[blockDim.x]): an out-of-bounds access
// that the emulator's AddressSanitizer build (native/emulator/test.sh) must report.
extern "C" __global__ void emutest_out_of_bounds(float* out, const float* in) {
    out[threadIdx.x] = in[threadIdx.x + 1];
}

SOLULENS_KERNEL(emutest_out_of_bounds)
