// The inner loop for 8 float lanes, compiled with -mavx2 -mfma (build.sh); called only where the CPU has both.
#define SOLULENS_ISA avx2
#include "float_exp_sum.h"
#include "float_exp_sum_api.h"

namespace solulens {

double sumAvx2(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n, const ExpConstants& k) {
    return avx2::sum<8>(q, da, a, da2, a2, db, b, n, k);
}

void sweepTileAvx2(const Tile& t, const ExpConstants& k) {
    avx2::sweepTile<8>(t, k);
}

}  // namespace solulens
