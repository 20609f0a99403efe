// The blocking of float_weight_product.h's product, shared by its AVX2 and AVX-512 translation units: W's columns widened
// BLOCK at a time into panels of K::NR columns, then sliver by sliver (a sliver of x, PRODUCT_ROWS x inner doubles, stays
// in L1 while it meets every panel of the block), K's kernel makes a PRODUCT_ROWS x K::NR tile, which is stored as
// doubles, or as float32 with each row's largest magnitude (NaN-aware) kept in K's registers. K supplies NR, ALIGN,
// packColumns, kernel and RowMax (init, add a full panel's row, the largest lane and whether a lane saw a NaN), defined
// in its translation unit's anonymous namespace. Each value is the same chain of FMAs whatever K, so the same bits.
#pragma once
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

#include "float_weight_product.h"

// Columns widened and packed at a time: 192 (inner x 192 doubles, 768 KB at d_model 512) ran B's product at 63–75
// GFLOP/s in a scratch program on Zen 3, against 31–41 for blocks of 48–96 walked panel by panel (benchmarks/NOTES.md).
constexpr int BLOCK = 192;

struct FreeAligned {
    void operator()(double* p) const { std::free(p); }
};

template <class K>
bool productWith(const double* packed, int rows, int inner, const float* w, int64_t wStride, int cols, double* outD, float* outF,
                 int64_t outStride, float* rowAbsMax) {
    constexpr int MR = solulens::PRODUCT_ROWS, NR = K::NR;
    static_assert(BLOCK % NR == 0, "a block is whole panels");
    // each calling thread's own panels, kept between calls (a fresh 768 KB would cost page faults on every call)
    thread_local std::unique_ptr<double, FreeAligned> panels;
    thread_local int64_t panelsSize = 0;
    int64_t need = (int64_t)inner * (BLOCK + NR);
    if (panelsSize < need) {
        panels.reset(static_cast<double*>(std::aligned_alloc(K::ALIGN, (size_t)need * sizeof(double))));
        panelsSize = panels ? need : 0;
        if (!panels) {
            return false;   // no memory for the panels: the caller reports it
        }
    }
    bool track = outF != nullptr && rowAbsMax != nullptr;
    if (track) {
        for (int r = 0; r < rows; r++) {
            rowAbsMax[r] = 0;
        }
    }
    alignas(64) double tile[MR * NR];
    for (int c0 = 0; c0 < cols; c0 += BLOCK) {
        int n = cols - c0 < BLOCK ? cols - c0 : BLOCK;
        K::packColumns(w + c0, wStride, inner, n, panels.get());
        for (int s = 0; s * MR < rows; s++) {
            int tileRows = rows - s * MR < MR ? rows - s * MR : MR;
            typename K::RowMax largest[MR];
            float tail[MR];   // the largest magnitude of the last, partial panel's columns (NaN if one is NaN)
            for (int r = 0; r < MR; r++) {
                largest[r].init();
                tail[r] = 0;
            }
            for (int p = 0; p * NR < n; p++) {
                K::kernel(inner, packed + (int64_t)s * MR * inner, panels.get() + (int64_t)p * inner * NR, tile);
                int tileCols = n - p * NR < NR ? n - p * NR : NR;
                for (int r = 0; r < tileRows; r++) {
                    int64_t o = (int64_t)(s * MR + r) * outStride + c0 + p * NR;
                    const double* t = tile + r * NR;
                    if (outD != nullptr) {
                        for (int c = 0; c < tileCols; c++) {
                            outD[o + c] = t[c];
                        }
                    } else if (tileCols == NR) {
                        largest[r].add(t, outF + o);
                    } else {
                        // the last panel's columns past the matrix hold 0 · x, which is NaN where x is infinite: not stored
                        for (int c = 0; c < tileCols; c++) {
                            float f = (float)t[c];
                            outF[o + c] = f;
                            float magnitude = std::fabs(f);
                            tail[r] = (magnitude != magnitude || tail[r] != tail[r]) ? std::numeric_limits<float>::quiet_NaN()
                                                                                     : (magnitude > tail[r] ? magnitude : tail[r]);
                        }
                    }
                }
            }
            if (track) {
                for (int r = 0; r < tileRows; r++) {
                    bool anyNan = false;
                    float lanes = largest[r].max(anyNan);
                    float m = rowAbsMax[s * MR + r];
                    anyNan = anyNan || m != m || tail[r] != tail[r];
                    m = lanes > m ? lanes : m;
                    m = tail[r] > m ? tail[r] : m;
                    rowAbsMax[s * MR + r] = anyNan ? std::numeric_limits<float>::quiet_NaN() : m;
                }
            }
        }
    }
    return true;
}
