// 2^x two ways, for the sweep kernel (sweep.cu): on the special-function units, and as a polynomial on the FMA
// units (FlashAttention-4's way of moving exponentials off the special-function units, which do 16 a clock per SM).
#pragma once

// 2^x on the special-function unit (one MUFU.EX2, an approximation with a relative error of a few ulp). The emulator has no such unit.
__device__ __forceinline__ float hw_exp2(float x) {
#ifdef __CUDA_ARCH__
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
#else
    return exp2f(x);
#endif
}

// 2^x for x ≤ 127 on the FMA units: x = j + f with j = round(x), found by adding 1.5·2^23 (which leaves j in the
// low mantissa bits: an add, not a conversion instruction), 2^f for f in [-0.5, 0.5] by a degree-5 minimax
// polynomial (relative error 7.5e-8 with exact coefficients, 2.4e-7 in float32), and j added to the exponent bits.
// Below -125 it returns about 2^-125 (1e-38) instead of less: the exponent field must not wrap.
__device__ __forceinline__ float poly_exp2(float x) {
    x = fmaxf(x, -125.0f);
    const float magic = 12582912.0f;
    float t = x + magic;
    float f = x - (t - magic);
    float p = 1.327645499e-03f;
    p = fmaf(p, f, 9.675540030e-03f);
    p = fmaf(p, f, 5.550713465e-02f);
    p = fmaf(p, f, 2.402212024e-01f);
    p = fmaf(p, f, 6.931469440e-01f);
    p = fmaf(p, f, 1.000000119e+00f);
    int j = __float_as_int(t) - __float_as_int(magic);
    return __int_as_float(__float_as_int(p) + j * (1 << 23));
}
