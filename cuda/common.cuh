// Shared helpers of SoluLens's kernels. Compiled by nvcc for the GPU and by g++ (with
// native/emulator/cuda_shim.h force-included and SOLULENS_EMULATOR defined) for the CPU emulator.
#pragma once

#ifndef SOLULENS_EMULATOR
#define SOLULENS_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#define SOLULENS_KERNEL(name)
// Fully unrolls a loop of constant trip count, so that small per-thread arrays stay in registers.
#define SOLULENS_UNROLL _Pragma("unroll")
#endif

// Block-wide sum of one float per thread; blockDim.x must be a multiple of 32 and at most 1024.
// `scratch` is 32 floats of shared memory. Every thread gets the sum.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    __syncthreads();                        // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Block-wide maximum, as block_sum.
__device__ __forceinline__ float block_max(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -INFINITY;
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
