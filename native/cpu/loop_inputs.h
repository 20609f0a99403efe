// What the exponentials' loops read: the constants (from Java's FloatExp and DoubleExp, the one place each is defined)
// and a tile.
#pragma once
#include <cstdint>

namespace solulens {

struct ExpConstants {
    static constexpr int degree = 6;
    float round;           // 1.5 * 2^23
    float log2e;
    float c[degree + 1];   // the polynomial's coefficients of r^0 .. r^6 (FloatExp.C0 .. C6)
};

struct DoubleExpConstants {
    double log2e, ln2hi, ln2lo, round, low, high;
    double taylor[14];  // 1/13! down to 1/0!
    int64_t roundBits;
};

struct Tile {
    const float *q, *a, *a2, *b;  // rows [.., vocab]; a2 may be null (site post)
    int64_t vocab;
    int q0, positions, n0, neurons, chunk;
    const double *dA, *dA2, *dB;  // [positions * neurons], by i * neurons + j
    const uint8_t* admitted;
    double* sums;
};

}  // namespace solulens
