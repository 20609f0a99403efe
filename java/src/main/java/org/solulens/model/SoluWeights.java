package org.solulens.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The weights of a one-layer model under TransformerLens state-dict names, each checked for shape and
 * for NaN/Inf when the model is built. LayerNorm gains and biases are {@code null} for {@code LNPre}
 * models (the norm is applied without them).
 */
public final class SoluWeights {
    private static final Logger log = LoggerFactory.getLogger(SoluWeights.class);

    /** {@code embed.W_E}, [d_vocab, d_model] */
    public final Tensor wE;
    /** {@code pos_embed.W_pos}, [n_ctx, d_model] */
    public final Tensor wPos;
    /** {@code blocks.0.ln1.w}, [d_model]; null for LNPre */
    public final Tensor ln1W;
    /** {@code blocks.0.ln1.b}, [d_model]; null for LNPre */
    public final Tensor ln1B;
    /** {@code blocks.0.ln2.w}, [d_model]; null for LNPre */
    public final Tensor ln2W;
    /** {@code blocks.0.ln2.b}, [d_model]; null for LNPre */
    public final Tensor ln2B;
    /** {@code ln_final.w}, [d_model]; null for LNPre */
    public final Tensor lnFinalW;
    /** {@code ln_final.b}, [d_model]; null for LNPre */
    public final Tensor lnFinalB;
    /** {@code blocks.0.mlp.ln.w}, [d_mlp]; null without SoLU's LayerNorm or for LNPre */
    public final Tensor mlpLnW;
    /** {@code blocks.0.mlp.ln.b}, [d_mlp]; null without SoLU's LayerNorm or for LNPre */
    public final Tensor mlpLnB;
    /** {@code blocks.0.attn.W_Q}, [n_heads, d_model, d_head] */
    public final Tensor wQ;
    /** {@code blocks.0.attn.W_K}, [n_heads, d_model, d_head] */
    public final Tensor wK;
    /** {@code blocks.0.attn.W_V}, [n_heads, d_model, d_head] */
    public final Tensor wV;
    /** {@code blocks.0.attn.b_Q}, [n_heads, d_head] */
    public final Tensor bQ;
    /** {@code blocks.0.attn.b_K}, [n_heads, d_head] */
    public final Tensor bK;
    /** {@code blocks.0.attn.b_V}, [n_heads, d_head] */
    public final Tensor bV;
    /** {@code blocks.0.attn.W_O}, [n_heads, d_head, d_model] */
    public final Tensor wO;
    /** {@code blocks.0.attn.b_O}, [d_model] */
    public final Tensor bO;
    /** {@code blocks.0.mlp.W_in}, [d_model, d_mlp] */
    public final Tensor wIn;
    /** {@code blocks.0.mlp.b_in}, [d_mlp] */
    public final Tensor bIn;
    /** {@code blocks.0.mlp.W_out}, [d_mlp, d_model] */
    public final Tensor wOut;
    /** {@code blocks.0.mlp.b_out}, [d_model] */
    public final Tensor bOut;
    /** {@code unembed.W_U}, [d_model, d_vocab] */
    public final Tensor wU;
    /** {@code unembed.b_U}, [d_vocab]; zeros when the checkpoint has none */
    public final Tensor bU;

    private final Map<String, Tensor> byName;

    /**
     * Builds the weights from a lookup by state-dict name that returns {@code null} for a missing tensor.
     * A missing {@code unembed.b_U} becomes zeros (TransformerLens does the same; solu-1l's checkpoint
     * has none); any other missing tensor is an error.
     */
    public static SoluWeights from(ModelConfig cfg, Function<String, Tensor> lookup) {
        return new SoluWeights(cfg, lookup);
    }

    private SoluWeights(ModelConfig cfg, Function<String, Tensor> lookup) {
        int d = cfg.dModel(), n = cfg.dMlp(), h = cfg.nHeads(), dh = cfg.dHead(), v = cfg.dVocab();
        byName = new LinkedHashMap<>();
        Loader l = new Loader(lookup, byName);
        wE = l.req("embed.W_E", "d_vocab, d_model", v, d);
        wPos = l.req("pos_embed.W_pos", "n_ctx, d_model", cfg.nCtx(), d);
        boolean gains = cfg.normalization() == Normalization.LN;
        ln1W = gains ? l.req("blocks.0.ln1.w", "d_model", d) : null;
        ln1B = gains ? l.req("blocks.0.ln1.b", "d_model", d) : null;
        wQ = l.req("blocks.0.attn.W_Q", "n_heads, d_model, d_head", h, d, dh);
        wK = l.req("blocks.0.attn.W_K", "n_heads, d_model, d_head", h, d, dh);
        wV = l.req("blocks.0.attn.W_V", "n_heads, d_model, d_head", h, d, dh);
        bQ = l.req("blocks.0.attn.b_Q", "n_heads, d_head", h, dh);
        bK = l.req("blocks.0.attn.b_K", "n_heads, d_head", h, dh);
        bV = l.req("blocks.0.attn.b_V", "n_heads, d_head", h, dh);
        wO = l.req("blocks.0.attn.W_O", "n_heads, d_head, d_model", h, dh, d);
        bO = l.req("blocks.0.attn.b_O", "d_model", d);
        ln2W = gains ? l.req("blocks.0.ln2.w", "d_model", d) : null;
        ln2B = gains ? l.req("blocks.0.ln2.b", "d_model", d) : null;
        wIn = l.req("blocks.0.mlp.W_in", "d_model, d_mlp", d, n);
        bIn = l.req("blocks.0.mlp.b_in", "d_mlp", n);
        boolean mlpLn = gains && cfg.actFn().hasMlpLayerNorm();
        mlpLnW = mlpLn ? l.req("blocks.0.mlp.ln.w", "d_mlp", n) : null;
        mlpLnB = mlpLn ? l.req("blocks.0.mlp.ln.b", "d_mlp", n) : null;
        wOut = l.req("blocks.0.mlp.W_out", "d_mlp, d_model", n, d);
        bOut = l.req("blocks.0.mlp.b_out", "d_model", d);
        lnFinalW = gains ? l.req("ln_final.w", "d_model", d) : null;
        lnFinalB = gains ? l.req("ln_final.b", "d_model", d) : null;
        wU = l.req("unembed.W_U", "d_model, d_vocab", d, v);
        Tensor b = lookup.apply("unembed.b_U");
        if (b == null) {
            log.info("unembed.b_U is absent; using zeros (as TransformerLens does)");
            b = Tensor.of("unembed.b_U", new int[] {v}, new float[v]);
        }
        bU = l.check(b, "d_vocab", v);
    }

    /** All tensors the model uses, in state-dict order. */
    public Map<String, Tensor> byName() {
        return java.util.Collections.unmodifiableMap(byName);
    }

    private record Loader(Function<String, Tensor> lookup, Map<String, Tensor> into) {
        Tensor req(String name, String dimNames, int... expected) {
            Tensor t = lookup.apply(name);
            if (t == null) {
                throw new ModelFormatException("missing tensor '" + name + "' (expected shape "
                        + Arrays.toString(expected) + " = [" + dimNames + "])");
            }
            return check(t, dimNames, expected);
        }

        Tensor check(Tensor t, String dimNames, int... expected) {
            if (!Arrays.equals(t.shape(), expected)) {
                throw new ModelFormatException(t.name() + " has shape " + Arrays.toString(t.shape())
                        + ", expected " + Arrays.toString(expected) + " (" + dimNames + ")");
            }
            int i = firstNonFinite(t);
            if (i >= 0) {
                throw new ModelFormatException(t.name() + " contains " + t.get(i) + " at flat index " + i
                        + " " + Arrays.toString(unravel(i, expected)) + "; weights must be finite");
            }
            into.put(t.name(), t);
            return t;
        }
    }

    /**
     * The first flat index of {@code t} holding a NaN or an infinity, or -1. In blocks read in bulk, on every core: a
     * fresh JVM checked solu-1l's 53M values one {@code get} at a time in 0.09 s of the model's load. Each task reuses
     * one block-sized array: a new 256 KB array per block made ~100 MB of fresh heap pages for W_E alone, and on a VM
     * where fresh memory costs several µs a page the first tensor's check took 0.22 s instead of W_U's 0.06 s. Blocks of
     * 4096 values, checked by a method of their own, get that method compiled early (benchmarks/NOTES.md).
     */
    static int firstNonFinite(Tensor t) {
        int n = t.size(), block = 1 << 12, blocks = (n + block - 1) / block;
        int tasks = TaskRanges.count(blocks);
        java.util.stream.IntStream range = java.util.stream.IntStream.range(0, tasks);
        int first = (tasks > 1 ? range.parallel() : range).map(task -> {
            float[] values = new float[Math.min(block, n)];
            for (int b = TaskRanges.start(blocks, tasks, task), end = TaskRanges.start(blocks, tasks, task + 1); b < end; b++) {
                int from = b * block, len = Math.min(block, n - from);
                t.buffer().get(from, values, 0, len);
                int i = firstNonFinite(values, len);
                if (i >= 0) {
                    return from + i;
                }
            }
            return Integer.MAX_VALUE;
        }).min().orElse(Integer.MAX_VALUE);
        return first == Integer.MAX_VALUE ? -1 : first;
    }

    /**
     * The first index below {@code len} holding a NaN or an infinity, or -1. A method of its own, called once per small
     * block, so that its many calls get it compiled early in a fresh JVM.
     */
    private static int firstNonFinite(float[] values, int len) {
        for (int i = 0; i < len; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int k = shape.length - 1; k >= 0; k--) {
            idx[k] = flat % shape[k];
            flat /= shape[k];
        }
        return idx;
    }
}
