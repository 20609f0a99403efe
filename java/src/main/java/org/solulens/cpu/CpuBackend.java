package org.solulens.cpu;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.solulens.backend.Ablation;
import org.solulens.backend.Activation;
import org.solulens.backend.DlaResult;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;

/**
 * The CPU forward pass, in double with float32 weights (matrix products through {@link MatMul}): the reference every other backend is
 * checked against. It reads like docs/design.md's equations, one line per TransformerLens hook.
 */
public final class CpuBackend implements Backend {
    private final SoluModel model;
    private final SweepPrecision precision;
    private final ConstantCache cache;
    private SweepConstants sweepConstants;
    private volatile boolean closed;
    /** Set by {@link #prepareSweep} for an exact sweep at site post, whose rows A come from the forward's logits. */
    private volatile boolean keepLogits;
    private final SpareLogits spareLogits = new SpareLogits();

    /** The default: the exact sweep's single-precision path. */
    public CpuBackend(SoluModel model) {
        this(model, SweepPrecision.SINGLE);
    }

    /** @param precision how the exact sweep computes its exponentials (the forward pass is always in double) */
    public CpuBackend(SoluModel model, SweepPrecision precision) {
        this(model, precision, null);
    }

    /**
     * @param precision how the exact sweep computes its exponentials (the forward pass is always in double)
     * @param cache where the sweep's model constant B is kept between processes ({@link ConstantCache#userDefault()}),
     *              or null to build it in memory for this backend only
     */
    public CpuBackend(SoluModel model, SweepPrecision precision, ConstantCache cache) {
        this.model = model;
        this.precision = java.util.Objects.requireNonNull(precision, "precision");
        this.cache = cache;
    }

    /** {@return how this backend's exact sweep computes its exponentials} */
    public SweepPrecision precision() {
        return precision;
    }

    @Override
    public SoluModel model() {
        return model;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public ForwardResult run(int[] tokens, Collection<String> hooks) {
        ensureOpen();
        ModelConfig cfg = model.config();
        model.checkTokens(tokens);
        Set<String> wanted = Hooks.select(cfg, hooks);
        SoluWeights w = model.weights();
        int P = tokens.length, D = cfg.dModel(), N = cfg.dMlp(), H = cfg.nHeads(), dh = cfg.dHead(), V = cfg.dVocab();
        double eps = cfg.eps();
        Cache cache = new Cache(wanted);

        double[] embed = new double[P * D], posEmbed = new double[P * D], residPre = new double[P * D];
        for (int p = 0; p < P; p++) {
            for (int i = 0; i < D; i++) {
                embed[p * D + i] = w.wE.get(tokens[p] * D + i);
                posEmbed[p * D + i] = w.wPos.get(p * D + i);
                residPre[p * D + i] = embed[p * D + i] + posEmbed[p * D + i];
            }
        }
        cache.put(Hooks.EMBED, embed, P, D);
        cache.put(Hooks.POS_EMBED, posEmbed, P, D);
        cache.put(Hooks.RESID_PRE, residPre, P, D);

        double[] ln1 = layerNorm(cache, residPre, P, D, w.ln1W, w.ln1B, eps, Hooks.LN1_SCALE, Hooks.LN1_NORMALIZED);
        CausalAttention.Result attn = CausalAttention.forward(ln1, P, D, H, dh, cfg.attnScale(), w);
        cache.put(Hooks.Q, attn.q(), P, H, dh);
        cache.put(Hooks.K, attn.k(), P, H, dh);
        cache.put(Hooks.V, attn.v(), P, H, dh);
        cache.put(Hooks.ATTN_SCORES, attn.scores(), H, P, P);
        cache.put(Hooks.PATTERN, attn.pattern(), H, P, P);
        cache.put(Hooks.Z, attn.z(), P, H, dh);
        cache.put(Hooks.ATTN_OUT, attn.out(), P, D);
        double[] residMid = add(residPre, attn.out());
        cache.put(Hooks.RESID_MID, residMid, P, D);

        double[] ln2 = layerNorm(cache, residMid, P, D, w.ln2W, w.ln2B, eps, Hooks.LN2_SCALE, Hooks.LN2_NORMALIZED);
        double[] pre = MatMul.multiply(ln2, P, D, w.wIn, 0, N, w.bIn, 0);
        cache.put(Hooks.MLP_PRE, pre, P, N);
        double[] act = new double[P * N];
        MlpActivation.forward(cfg.actFn(), pre, P, N, act);
        double[] post = act;
        if (cfg.actFn().hasMlpLayerNorm()) {
            cache.put(Hooks.MLP_MID, act, P, N);
            post = layerNorm(cache, act, P, N, w.mlpLnW, w.mlpLnB, eps, Hooks.MLP_LN_SCALE, Hooks.MLP_LN_NORMALIZED);
        }
        cache.put(Hooks.MLP_POST, post, P, N);
        double[] mlpOut = MatMul.multiply(post, P, N, w.wOut, 0, D, w.bOut, 0);
        cache.put(Hooks.MLP_OUT, mlpOut, P, D);
        double[] residPost = add(residMid, mlpOut);
        cache.put(Hooks.RESID_POST, residPost, P, D);

        double[] lnFinal = layerNorm(cache, residPost, P, D, w.lnFinalW, w.lnFinalB, eps, Hooks.LN_FINAL_SCALE, Hooks.LN_FINAL_NORMALIZED);
        double[] logits = unembed(lnFinal, P, cfg, w);
        cache.put(Hooks.LOGITS, logits, P, V);
        double[] loss = CrossEntropy.nextTokenLoss(logits, tokens, V);
        cache.put(Hooks.LOSS, loss, P - 1);
        ForwardResult result = new ForwardResult(tokens.clone(), loss, cache.values);
        if (keepLogits && !wanted.contains(Hooks.LOGITS)) {   // logits a hook holds are the caller's, never overwritten
            spareLogits.offer(result, logits);
        }
        return result;
    }

    @Override
    public SweepResult sweep(ForwardResult clean, SweepRequest request) {
        return sweep(clean, request, positions -> { });
    }

    /** The exact sweep reports each chunk of positions as it finishes it; the other methods, the whole prompt at the end. */
    @Override
    public SweepResult sweep(ForwardResult clean, SweepRequest request, java.util.function.IntConsumer positionsDone) {
        ensureOpen();
        for (String hook : request.requiredHooks(model.config())) {
            clean.get(hook);
        }
        SweepConstants k = sweepConstants();
        if (request.method() == org.solulens.backend.SweepMethod.EXACT) {
            double[] logits = request.ablation().site() == Ablation.Site.POST ? spareLogits.take(clean) : null;
            return ExactSweep.run(k, clean, request, precision, positionsDone, logits);
        }
        SweepResult result = request.method() == org.solulens.backend.SweepMethod.REFORWARD ? ReforwardSweep.run(k, clean, request)
                : AttributionSweep.run(k, clean, request);
        positionsDone.accept(result.positions());
        return result;
    }

    /**
     * For an exact sweep, makes the sweep's constants (its logit offsets and the ablation's directions: ~0.1 s of a
     * fresh JVM for solu-1l, most of it new memory) and starts B's key and cache file ({@link SweepConstants#prepareB}),
     * all on a thread of its own while the caller runs its forward passes. The sweep waits for the constants if they
     * are still being made, and makes them itself if that thread failed. At site post, each later forward pass's logits
     * are then held for the sweep of its result ({@link SpareLogits}).
     */
    @Override
    public void prepareSweep(SweepRequest request) {
        ensureOpen();
        if (request.method() == org.solulens.backend.SweepMethod.EXACT) {
            keepLogits = request.ablation().site() == Ablation.Site.POST;
            Thread t = new Thread(() -> {
                try {
                    synchronized (this) {   // close() waits, or this sees it closed
                        if (!closed) {
                            SweepConstants k = sweepConstants();
                            k.prepareB(SweepChunk.directions(k, request.ablation()));
                        }
                    }
                } catch (RuntimeException | OutOfMemoryError e) {
                    // the sweep makes the constants itself, and reports a failure there, where the caller sees it
                    org.slf4j.LoggerFactory.getLogger(CpuBackend.class).debug("sweep constants not made ahead: {}", e.toString());
                }
            }, "solulens-sweep-constants");
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public DlaResult dla(ForwardResult clean, boolean tlVariant) {
        ensureOpen();
        return DirectLogitAttribution.run(model.config(), model.weights(), clean, tlVariant);
    }

    @Override
    public double[] ablatePositions(ForwardResult clean, Ablation ablation) {
        ensureOpen();
        return PositionAblation.run(model.config(), model.weights(), clean, ablation);
    }

    /** The logits of {@code rows} rows of ln_final's output: the forward pass's unembedding, and the sweep's when it remakes them. */
    static double[] unembed(double[] lnFinal, int rows, ModelConfig cfg, SoluWeights w) {
        return MatMul.multiply(lnFinal, rows, cfg.dModel(), w.wU, 0, cfg.dVocab(), w.bU, 0);
    }

    /** {@return whether the logits of {@code result}'s forward pass are held for its sweep} (for tests) */
    boolean holdsLogitsFor(ForwardResult result) {
        return spareLogits.holds(result);
    }

    /** Drops the sweep's model constants (B: up to 395 MB per ablation kind); a second call does nothing. */
    @Override
    public synchronized void close() {
        closed = true;
        spareLogits.clear();
        if (sweepConstants != null) {
            sweepConstants.dropPrepared();
        }
        sweepConstants = null;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this cpu backend is closed; create a new one with Backends.create");
        }
    }

    /** The model constants of the sweep (B = W̄_out Ŵ, ...), made once per backend on first use. */
    private synchronized SweepConstants sweepConstants() {
        if (sweepConstants == null) {
            sweepConstants = new SweepConstants(model.config(), model.weights(), cache);
        }
        return sweepConstants;
    }

    private static double[] layerNorm(Cache cache, double[] x, int rows, int width,
                                      org.solulens.model.Tensor gain, org.solulens.model.Tensor bias, double eps,
                                      String scaleHook, String normalizedHook) {
        double[] normalized = new double[rows * width], scale = new double[rows], out = new double[rows * width];
        LayerNorm.forward(x, rows, width, gain, bias, eps, normalized, scale, out);
        cache.put(scaleHook, scale, rows);
        cache.put(normalizedHook, normalized, rows, width);
        return out;
    }

    private static double[] add(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    /** Keeps only the hooks that were asked for. */
    private static final class Cache {
        final Set<String> wanted;
        final Map<String, Activation> values = new LinkedHashMap<>();

        Cache(Set<String> wanted) {
            this.wanted = wanted;
        }

        void put(String hook, double[] data, int... shape) {
            if (wanted.contains(hook)) {
                values.put(hook, new Activation(hook, shape, data));
            }
        }
    }
}
