// The entry points of the per-instruction-set translation units.
#pragma once
#include "float_exp_constants.h"

namespace solulens {
double sumAvx2(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n, const ExpConstants& k);
void sweepTileAvx2(const Tile& t, const ExpConstants& k);
}  // namespace solulens
