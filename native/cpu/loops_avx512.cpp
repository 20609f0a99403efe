// The inner loops for 16 float lanes and 8 double lanes, compiled with -mavx512f -mfma (build.sh); called only where the
// CPU has AVX-512F. The JDK's Vector API runs those widths there, so these give its bits; the float loop reads a B mapped
// from the constant cache in place where the Java loop needs a heap copy (395 MB of fresh pages for solu-1l), and the
// double loops spare a fresh JVM the interpreted Vector API code of its first forward pass.
#define SOLULENS_ISA avx512
#include "exp_sum.h"
#include "float_exp_sum.h"
#include "loops.h"

namespace solulens {

double sumAvx512(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n, const ExpConstants& k) {
    return avx512::sum16(q, da, a, da2, a2, db, b, n, k);
}

void sweepTileAvx512(const Tile& t, const ExpConstants& k) {
    avx512::sweepTile<avx512::sum16>(t, k);
}

double expSumAvx512(double alpha, const double* a, double gamma, const double* a2, double delta, const float* b, const double* beta, int v,
                    double shift, const DoubleExpConstants& k) {
    if (a2 != nullptr) {
        return b != nullptr ? avx512::expSum8<true, true>(alpha, a, gamma, a2, delta, b, beta, v, shift, k)
                            : avx512::expSum8<true, false>(alpha, a, gamma, a2, delta, b, beta, v, shift, k);
    }
    return b != nullptr ? avx512::expSum8<false, true>(alpha, a, gamma, a2, delta, b, beta, v, shift, k)
                        : avx512::expSum8<false, false>(alpha, a, gamma, a2, delta, b, beta, v, shift, k);
}

double sumExpAvx512(const double* x, int n, double shift, const DoubleExpConstants& k) {
    return avx512::sumExp8(x, n, shift, k);
}

void expIntoAvx512(const double* x, int n, double shift, float* out, const DoubleExpConstants& k) {
    avx512::expInto8(x, n, shift, out, k);
}

}  // namespace solulens
