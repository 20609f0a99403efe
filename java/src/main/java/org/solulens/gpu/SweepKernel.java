package org.solulens.gpu;

/**
 * The variants of the sweep kernel (cuda/sweep.cu). They compute the same numbers within the project's float32
 * bound; they differ in where the exponentials run, which only a GPU can time ({@code bench-sweep --kernel}).
 */
public enum SweepKernel {
    /** Shift-free sums wherever |d| is bounded (almost every pair), every exponential on the special-function units. */
    EX2("sweep_forward", 64f),
    /** As EX2, with one exponential in 16 as a degree-5 polynomial on the FMA units. */
    POLY("sweep_forward_poly", 64f),
    /** A running maximum per pair everywhere: the path EX2 takes only for pairs whose bound is past 64. */
    ONLINE("sweep_forward", -1f);

    final String function;
    /** Base-2 exponent bound below which a pair's sum needs no running maximum; negative: never. */
    final float shiftFreeLimit;

    SweepKernel(String function, float shiftFreeLimit) {
        this.function = function;
        this.shiftFreeLimit = shiftFreeLimit;
    }

    public static SweepKernel parse(String s) {
        for (SweepKernel k : values()) {
            if (k.name().equalsIgnoreCase(s.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown sweep kernel '" + s + "'; expected ex2, poly or online");
    }
}
