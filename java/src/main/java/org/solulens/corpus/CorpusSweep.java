package org.solulens.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;
import org.solulens.analysis.Progress;
import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.SweepMethod;
import org.solulens.model.SoluModel;
import org.solulens.model.Tensor;

/**
 * The corpus sweep: every neuron ablated at every position of every window of a corpus, streamed: windows are read,
 * swept in batches by the backend, and folded into {@link CorpusStats} in corpus order; nothing per pair is kept.
 * A checkpoint of the statistics (which also says how many windows are done) is written every so often and when the
 * process is stopped; a resumed run skips the windows done and ends with the same results as one that never stopped.
 */
public final class CorpusSweep {
    /**
     * What to compute. {@code window}: tokens per window (BOS included), at most n_ctx; {@code batch}: windows between
     * progress updates and snapshots of the state (never the results).
     */
    public record Settings(Ablation ablation, SweepMethod method, int window, boolean perDocument, long maxTokens, int k, double threshold,
                           int batch, boolean skipBad) {
        String fingerprint() {
            return "site " + ablation.site() + ", ablation " + ablation.label() + ", method " + method + ", window " + window
                    + (perDocument ? ", per document" : ", packed") + ", max tokens " + maxTokens + ", k " + k + ", threshold " + threshold
                    + (skipBad ? ", skipping bad lines" : "");
        }
    }

    /** What a run did, beside its statistics. */
    public record Result(CorpusStats stats, long tokens, long skipped, String firstSkip, long dropped, long truncated, double seconds,
                         long resumedWindows, String backend) {}

    private CorpusSweep() {}

    /** The fingerprint a checkpoint must match: model, settings, corpus. */
    public static Map<String, String> fingerprint(SoluModel model, Settings s, Path data) throws IOException {
        Map<String, String> f = new LinkedHashMap<>();
        CRC32 weights = new CRC32();
        for (Tensor t : model.weights().byName().values()) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * t.size());
            b.asFloatBuffer().put(t.buffer());
            weights.update(b);
        }
        f.put("model", model.config().toTlMap() + ", weights CRC32 " + Long.toHexString(weights.getValue()));
        f.put("settings", s.fingerprint());
        CRC32 corpus = new CRC32();
        try (InputStream in = Files.newInputStream(data)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                corpus.update(buf, 0, n);
            }
        }
        f.put("corpus", data.getFileName() + " (" + Files.size(data) + " bytes, CRC32 " + Long.toHexString(corpus.getValue()) + ")");
        return f;
    }

    /**
     * Runs (or resumes) the sweep. {@code checkpoint}: where the state is kept between runs (null: nowhere);
     * {@code resume}: start from it; {@code checkpointSeconds}: how often it is written while running.
     */
    public static Result run(Backend backend, Path data, Settings s, Path checkpoint, boolean resume, double checkpointSeconds, boolean quiet)
            throws IOException {
        return run(List.of(backend), data, s, checkpoint, resume, checkpointSeconds, quiet);
    }

    /** As {@link #run(Backend, Path, Settings, Path, boolean, double, boolean)} with one worker per backend (all of one model). */
    public static Result run(List<? extends Backend> backends, Path data, Settings s, Path checkpoint, boolean resume, double checkpointSeconds,
                             boolean quiet) throws IOException {
        SoluModel model = backends.get(0).model();
        if (s.window() > model.config().nCtx() || s.window() < 2) {
            throw new IllegalArgumentException("--window " + s.window() + ": must be between 2 and the model's n_ctx = " + model.config().nCtx());
        }
        Map<String, String> fingerprint = checkpoint == null ? Map.of() : fingerprint(model, s, data);
        int neurons = model.config().dMlp();
        CorpusStats stats = resume ? CorpusCheckpoint.read(checkpoint, fingerprint) : new CorpusStats(neurons, s.k(), s.threshold());
        long resumed = stats.windows();
        int bos = model.tokenizer() != null && model.tokenizer().bosId() >= 0 ? model.tokenizer().bosId() : 0;
        int eos = model.tokenizer() != null && model.tokenizer().eosId() >= 0 ? model.tokenizer().eosId() : bos;
        long start = System.nanoTime(), lastCheckpoint = start;
        // the progress bar's total: ~4.4 bytes a token in English text, 4 or 8 in a .npy (close enough for a bar)
        double bytesPerToken = data.getFileName().toString().endsWith(".npy") ? 4 : 4.4;
        long tokensEstimate = s.maxTokens() > 0 ? s.maxTokens() : Math.max(1, (long) (Files.size(data) / bytesPerToken));
        final byte[][] latest = {checkpoint == null ? null : CorpusCheckpoint.snapshot(fingerprint, stats)};
        Thread hook = checkpoint == null ? null : new Thread(() -> {
            byte[] snap;
            synchronized (latest) {
                snap = latest[0];
            }
            try {
                CorpusCheckpoint.write(checkpoint, snap);
                System.err.println("\ninterrupted: the corpus sweep's state is saved in " + checkpoint + "; run the same command with --resume to continue");
            } catch (IOException e) {
                System.err.println("\ninterrupted, and the checkpoint could not be written: " + e.getMessage());
            }
        }, "solulens-corpus-checkpoint");
        if (hook != null) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
        List<java.util.function.Function<Window, WindowSweeper.Swept>> workers = new ArrayList<>();
        for (Backend b : backends) {
            workers.add(new WindowSweeper(b, s)::sweep);
        }
        long tokens = 0;
        try (CorpusReader reader = CorpusReader.open(data, model, s.skipBad());
             Progress progress = Progress.start("corpus sweep (tokens)", tokensEstimate, quiet)) {
            WindowPacker packer = new WindowPacker(reader, s.window(), bos, eos, s.perDocument(), s.maxTokens());
            for (long skip = 0; skip < resumed; skip++) {
                if (!packer.hasNext()) {
                    throw new IllegalArgumentException(checkpoint + ": the checkpoint has " + resumed + " windows, the corpus fewer");
                }
                packer.next();
            }
            long pairs = 0, sinceUpdate = 0, foldedSinceUpdate = 0;
            try (WindowPipeline<WindowSweeper.Swept> pipeline = new WindowPipeline<>(packer, resumed, workers, 4 * backends.size() + 4)) {
                for (WindowSweeper.Swept r; (r = pipeline.next()) != null; ) {
                    r.foldInto(stats);
                    int P = r.window().tokens().length - 1;
                    tokens += P;
                    pairs += (long) P * neurons;
                    sinceUpdate += P;
                    if (++foldedSinceUpdate < s.batch()) {
                        continue;
                    }
                    foldedSinceUpdate = 0;
                    if (checkpoint != null) {
                        byte[] snap = CorpusCheckpoint.snapshot(fingerprint, stats);
                        synchronized (latest) {
                            latest[0] = snap;
                        }
                        if ((System.nanoTime() - lastCheckpoint) / 1e9 >= checkpointSeconds) {
                            CorpusCheckpoint.write(checkpoint, snap);
                            lastCheckpoint = System.nanoTime();
                        }
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    progress.advance(sinceUpdate, String.format(Locale.ROOT, "%.0f tokens/s, %.3g pairs/s", tokens / seconds, pairs / seconds));
                    sinceUpdate = 0;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            if (stats.positions() == 0) {
                throw new IllegalArgumentException(data + ": no window of " + s.window() + " tokens could be made (" + packer.tokens()
                        + " tokens read" + (reader.skipped() > 0 ? ", " + reader.skipped() + " documents skipped" : "") + ")");
            }
            progress.advance(tokensEstimate, String.format(Locale.ROOT, "%d tokens", tokens));
            double seconds = (System.nanoTime() - start) / 1e9;
            String names = backends.size() == 1 ? backends.get(0).name() : backends.size() + " workers: " + backends.get(0).name();
            return new Result(stats, tokens, reader.skipped(), reader.firstSkipReason(), packer.dropped(), packer.truncated(), seconds, resumed, names);
        } finally {
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // shutting down: the hook runs
                }
            }
        }
    }
}
