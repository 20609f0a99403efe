// The inner loops for 8 float lanes and 4 double lanes, compiled with -mavx2 -mfma (build.sh); called only where the
// CPU has both.
#define SOLULENS_ISA avx2
#include "exp_sum.h"
#include "float_exp_sum.h"
#include "loops.h"

namespace solulens {

double sumAvx2(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n, const ExpConstants& k) {
    return avx2::sum8(q, da, a, da2, a2, db, b, n, k);
}

void sweepTileAvx2(const Tile& t, const ExpConstants& k) {
    avx2::sweepTile<avx2::sum8>(t, k);
}

double expSumAvx2(double alpha, const double* a, double gamma, const double* a2, double delta, const float* b, const double* beta, int v,
                  double shift, const DoubleExpConstants& k) {
    if (a2 != nullptr) {
        return b != nullptr ? avx2::expSum4<true, true>(alpha, a, gamma, a2, delta, b, beta, v, shift, k)
                            : avx2::expSum4<true, false>(alpha, a, gamma, a2, delta, b, beta, v, shift, k);
    }
    return b != nullptr ? avx2::expSum4<false, true>(alpha, a, gamma, a2, delta, b, beta, v, shift, k)
                        : avx2::expSum4<false, false>(alpha, a, gamma, a2, delta, b, beta, v, shift, k);
}

double sumExpAvx2(const double* x, int n, double shift, const DoubleExpConstants& k) {
    return avx2::sumExp4(x, n, shift, k);
}

void expIntoAvx2(const double* x, int n, double shift, float* out, const DoubleExpConstants& k) {
    avx2::expInto(x, n, shift, out, k);
}

}  // namespace solulens
