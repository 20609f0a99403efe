// The entry points of the per-instruction-set translation units (AVX2 + FMA: 8 float, 4 double lanes; AVX-512F: 16 and 8).
#pragma once
#include "loop_inputs.h"

namespace solulens {
double sumAvx2(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n, const ExpConstants& k);
void sweepTileAvx2(const Tile& t, const ExpConstants& k);
double sumAvx512(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n, const ExpConstants& k);
void sweepTileAvx512(const Tile& t, const ExpConstants& k);
double expSumAvx2(double alpha, const double* a, double gamma, const double* a2, double delta, const float* b, const double* beta, int v,
                  double shift, const DoubleExpConstants& k);
double sumExpAvx2(const double* x, int n, double shift, const DoubleExpConstants& k);
void expIntoAvx2(const double* x, int n, double shift, float* out, const DoubleExpConstants& k);
double expSumAvx512(double alpha, const double* a, double gamma, const double* a2, double delta, const float* b, const double* beta, int v,
                    double shift, const DoubleExpConstants& k);
double sumExpAvx512(const double* x, int n, double shift, const DoubleExpConstants& k);
void expIntoAvx512(const double* x, int n, double shift, float* out, const DoubleExpConstants& k);
}  // namespace solulens
