package org.solulens.spark;

import java.io.Serializable;
import java.util.Locale;
import org.solulens.backend.Ablation;
import org.solulens.backend.SweepMethod;
import org.solulens.corpus.CorpusSweep;

/**
 * The job's options: those of the single-machine {@code corpus} command that concern the results (same names, same
 * defaults), plus where the model and the output are and how many partitions sweep the windows.
 *
 * @param model a model folder every executor can read at this path, or {@code demo} / {@code demo-gelu}
 * @param data the corpus: any path Spark reads (.txt, .jsonl, .npy, or Parquet with a {@code text} or {@code tokens} column)
 * @param out the output folder: any path Hadoop writes (local, HDFS, S3 through the user's Hadoop configuration)
 * @param partitions how many partitions sweep the windows (0: Spark's default parallelism)
 */
record JobOptions(String model, String data, String out, boolean overwrite, String site, String ablation, String method,
                  Integer window, boolean perDocument, long maxTokens, int top, double threshold, boolean skipBad, int partitions)
        implements Serializable {

    static final String USAGE = String.join("\n",
            "usage: spark-submit --class org.solulens.spark.CorpusSweepJob solulens-spark.jar --data PATH --out PATH [options]",
            "  --model DIR|demo      model folder readable by every executor at this path (default: demo)",
            "  --data PATH           corpus: .txt (a document a line), .jsonl (text or tokens), .npy, or Parquet (text or tokens column)",
            "  --out PATH            output folder (written whole, or not at all); --overwrite replaces an existing one",
            "  --site post|mid       where to ablate (default post)",
            "  --ablation zero|paper (default zero)",
            "  --method exact|reforward|attribution (default exact)",
            "  --window L            tokens per window, BOS included (default: the model's n_ctx)",
            "  --per-document        each document its own window instead of packing",
            "  --max-tokens N        stop after N corpus tokens (default 0: all)",
            "  --top K               contexts kept per neuron and list (default 20)",
            "  --threshold NATS      Δloss counted as large (default 0.1)",
            "  --skip-bad            skip malformed lines and empty documents (counted) instead of failing",
            "  --partitions N        partitions that sweep the windows (default: Spark's default parallelism)");

    static JobOptions parse(String[] args) {
        String model = "demo", data = null, out = null, site = "post", ablation = "zero", method = "exact";
        Integer window = null;
        boolean overwrite = false, perDocument = false, skipBad = false;
        long maxTokens = 0;
        int top = 20, partitions = 0;
        double threshold = 0.1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--overwrite" -> overwrite = true;
                case "--per-document" -> perDocument = true;
                case "--skip-bad" -> skipBad = true;
                case "--help", "-h" -> throw new IllegalArgumentException(USAGE);
                default -> {
                    if (i + 1 >= args.length || !a.startsWith("--")) {
                        throw new IllegalArgumentException("unknown or incomplete option " + a + "\n" + USAGE);
                    }
                    String v = args[++i];
                    try {
                        switch (a) {
                            case "--model" -> model = v;
                            case "--data" -> data = v;
                            case "--out" -> out = v;
                            case "--site" -> site = v;
                            case "--ablation" -> ablation = v;
                            case "--method" -> method = v;
                            case "--window" -> window = Integer.parseInt(v);
                            case "--max-tokens" -> maxTokens = Long.parseLong(v);
                            case "--top" -> top = Integer.parseInt(v);
                            case "--threshold" -> threshold = Double.parseDouble(v);
                            case "--partitions" -> partitions = Integer.parseInt(v);
                            default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
                        }
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(a + " " + v + ": not a number");
                    }
                }
            }
        }
        if (data == null || out == null) {
            throw new IllegalArgumentException("--data and --out are required\n" + USAGE);
        }
        if (top < 0 || maxTokens < 0 || partitions < 0 || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("--top, --max-tokens and --partitions must be >= 0, --threshold finite");
        }
        JobOptions o = new JobOptions(model, data, out, overwrite, site, ablation, method, window, perDocument, maxTokens, top, threshold,
                skipBad, partitions);
        o.settings(2);   // checks site, ablation and method now, on the driver
        return o;
    }

    /** The single-machine sweep's settings for a model whose context is {@code nCtx}. */
    CorpusSweep.Settings settings(int nCtx) {
        Ablation.Kind kind = Ablation.Kind.parse(ablation);
        if (kind != Ablation.Kind.ZERO && kind != Ablation.Kind.PAPER) {
            throw new IllegalArgumentException("--ablation " + ablation + ": the corpus sweep takes zero or paper");
        }
        int length = window == null ? nCtx : window;
        return new CorpusSweep.Settings(new Ablation(Ablation.Site.parse(site.toLowerCase(Locale.ROOT)), kind, null), SweepMethod.parse(method),
                length, perDocument, maxTokens, top, threshold, 1, skipBad);
    }
}
