package org.solulens.bench;

/**
 * What one call of a benchmarked kernel must do at least: bytes it moves, floating-point operations and
 * exponentials. Its floor is the largest of the three over the device's reference rates (measured in the same
 * run by the {@code copy}, {@code matmul} and {@code exp} benchmarks), so a memory-bound kernel is held to the
 * copy bandwidth and the sweep to the exp rate.
 */
record Work(double bytes, double flops, double exps) {
    /**
     * The work of one call of {@code kernel} at {@code shape}: values are 8-byte doubles on the CPU, 4-byte floats
     * on a device.
     */
    static Work of(String kernel, boolean cpu, Shape s) {
        double w = cpu ? 8 : 4, P = s.tokens, D = s.dModel, N = s.dMlp, V = s.vocab, H = s.heads, dh = s.dHead;
        return switch (kernel) {
            // the CPU copies (read + write); a device adds two arrays (read 2, write 1)
            case "copy" -> bytes((cpu ? 2 : 3) * w * P * V);
            // the CPU: the sweep's inner loop as its tiles run it, P positions x 16 rows of B; a device: 2^x over P·V values
            case "exp" -> exps(cpu ? 16 * P * V : P * V);
            case "matmul" -> flops(2 * P * D * V);
            case "solu" -> bytes(2 * w * P * N).plus(exps(P * N));
            case "gelu" -> bytes(2 * w * P * N);
            case "layernorm" -> bytes(3 * w * P * N);
            // scores and weighted values over the causal half: H·P²·d_head multiply-adds, H·P²/2 exponentials
            case "attention" -> flops(2 * H * P * P * dh).plus(exps(H * P * P / 2));
            case "cross-entropy" -> bytes(w * P * V).plus(exps(P * V));
            // Q, K, V, O; W_in, W_out; the unembedding; and the softmaxes of SoLU and of the loss
            case "forward" -> flops(2 * P * (4 * D * H * dh + 2 * D * N + D * V)).plus(exps(P * (V + N)));
            // P·N·V exponentials over the predicting positions
            case "sweep", "sweep-mid" -> exps((s.sweepTokens - 1) * N * V);
            // three sweeps: direct (both scales frozen), ln_final frozen, total
            case "decomposition" -> exps(3 * (s.sweepTokens - 1) * N * V);
            default -> throw new IllegalArgumentException("unknown kernel '" + kernel + "'");
        };
    }

    static Work bytes(double bytes) {
        return new Work(bytes, 0, 0);
    }

    static Work flops(double flops) {
        return new Work(0, flops, 0);
    }

    static Work exps(double exps) {
        return new Work(0, 0, exps);
    }

    Work plus(Work o) {
        return new Work(bytes + o.bytes, flops + o.flops, exps + o.exps);
    }

    /** The headline rate: exps/s where exponentials bound it, else FLOP/s, else bytes/s. */
    String rate(double seconds) {
        if (exps > 0 && exps >= flops / 16) {
            return String.format("%.3g exp/s", exps / seconds);
        }
        return flops > 0 ? String.format("%.3g FLOP/s", flops / seconds) : String.format("%.3g B/s", bytes / seconds);
    }

    /** Seconds this work needs at the given reference rates (bytes/s, FLOP/s, exp/s); NaN where a rate is missing. */
    double floorSeconds(double bandwidth, double flopRate, double expRate) {
        double t = 0;
        t = Math.max(t, bytes > 0 ? bytes / bandwidth : 0);
        t = Math.max(t, flops > 0 ? flops / flopRate : 0);
        t = Math.max(t, exps > 0 ? exps / expRate : 0);
        return t;
    }
}
