// conversions.h for CPUs with AVX2 (compiled with -mavx2, build.sh; called only where the CPU has it).
#include "conversions.h"

#include <immintrin.h>

#include <cmath>
#include <limits>

namespace solulens {

void widenAvx2(const float* src, double* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(src + i);
        _mm256_storeu_pd(dst + i, _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
        _mm256_storeu_pd(dst + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
    }
    for (; i < n; i++) {
        dst[i] = src[i];
    }
}

float narrowAvx2(const double* src, float* dst, int64_t n) {
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 largest = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 lo = _mm256_cvtpd_ps(_mm256_loadu_pd(src + i)), hi = _mm256_cvtpd_ps(_mm256_loadu_pd(src + i + 4));
        __m256 x = _mm256_set_m128(hi, lo);
        _mm256_storeu_ps(dst + i, x);
        __m256 magnitude = _mm256_and_ps(x, absMask);
        // max_ps drops a NaN in its first operand: NaNs are counted apart
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(magnitude, magnitude, _CMP_UNORD_Q));
        largest = _mm256_max_ps(magnitude, largest);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, largest);
    bool anyNan = _mm256_movemask_ps(nan) != 0;
    float result = 0;
    for (float lane : lanes) {
        result = lane > result ? lane : result;
    }
    for (; i < n; i++) {
        float x = static_cast<float>(src[i]);
        dst[i] = x;
        float magnitude = std::fabs(x);
        anyNan |= std::isnan(magnitude);
        result = magnitude > result ? magnitude : result;
    }
    return anyNan ? std::numeric_limits<float>::quiet_NaN() : result;
}

}  // namespace solulens
