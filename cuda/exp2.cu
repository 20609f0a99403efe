// exp2_forward: out[i] = 2^x[i] by hw_exp2 (poly = 0) or poly_exp2 (poly = 1) of exp2.cuh, one thread per element.
// It exists so that the two exponentials the sweep kernel uses are tested against their CPU twin (Math.pow) on
// every device, the special-function unit's own error included.
#include "common.cuh"
#include "exp2.cuh"

extern "C" __global__ void exp2_forward(float* __restrict__ out, const float* __restrict__ x, int n, int poly) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = poly ? poly_exp2(x[i]) : hw_exp2(x[i]);
}

SOLULENS_KERNEL(exp2_forward)
