package org.solulens.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.Partitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.solulens.backend.Backend;
import org.solulens.corpus.CorpusReader;
import org.solulens.corpus.CorpusReport;
import org.solulens.corpus.CorpusStats;
import org.solulens.corpus.CorpusSweep;
import org.solulens.corpus.Window;
import org.solulens.corpus.WindowPieces;
import org.solulens.corpus.WindowSweeper;
import org.solulens.model.SoluModel;
import scala.Tuple2;

/**
 * The corpus sweep as a Spark application: {@code spark-submit --class org.solulens.spark.CorpusSweepJob}. The corpus is
 * read as a Dataset, its documents tokenized on the executors, and numbered with prefix sums of each partition's totals,
 * so that every document is cut into the very windows the single-machine {@code corpus} command packs
 * ({@link WindowPieces}); a shuffle brings each window's pieces together, sorted by window; each partition sweeps its
 * windows on its executor's backend and folds them into one {@link CorpusStats}, and the driver merges the partitions'
 * states. Fault tolerance is Spark's: a failed task runs again and its state is merged once, since results flow only
 * through the collected states.
 */
public final class CorpusSweepJob {
    private static final Logger log = LoggerFactory.getLogger(CorpusSweepJob.class);

    /** Test hook: the first attempt of this partition's sweep task fails (-1: none). Read on the executors, local mode only. */
    static volatile int failFirstAttemptOfPartition = -1;

    private CorpusSweepJob() {}

    /** What a run produced: the result the single-machine sweep would give, and the summary written with it. */
    record Outcome(CorpusSweep.Result result, String summary) {}

    public static void main(String[] args) throws Exception {
        JobOptions options;
        try {
            options = JobOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        SparkSession spark = SparkSession.builder().appName("solulens corpus sweep").getOrCreate();
        try {
            Outcome o = run(spark, options, "solulens-spark " + String.join(" ", args));
            System.out.println(o.summary().lines().filter(l -> l.startsWith("- ")).reduce((a, b) -> a + "\n" + b).orElse(""));
            System.out.printf(Locale.ROOT, "%d tokens in %.1f s: %.0f tokens/s; outputs written to %s%n", o.result().tokens(),
                    o.result().seconds(), o.result().tokens() / o.result().seconds(), options.out());
        } finally {
            spark.stop();
        }
    }

    /** Runs the sweep on {@code spark} and writes the outputs; {@code command} is recorded in the summary. */
    static Outcome run(SparkSession spark, JobOptions o, String command) throws IOException {
        long start = System.nanoTime();
        JobOutput output = JobOutput.open(spark, o.out(), o.overwrite());   // refused now, not after the sweep
        SoluModel model = ExecutorModels.model(o.model());
        int nCtx = model.config().nCtx();
        CorpusSweep.Settings settings = o.settings(nCtx);
        if (settings.window() > nCtx || settings.window() < 2) {
            throw new IllegalArgumentException("--window " + settings.window() + ": must be between 2 and the model's n_ctx = " + nCtx);
        }
        int bos = model.tokenizer() != null && model.tokenizer().bosId() >= 0 ? model.tokenizer().bosId() : 0;
        int eos = model.tokenizer() != null && model.tokenizer().eosId() >= 0 ? model.tokenizer().eosId() : bos;
        WindowPieces cut = new WindowPieces(settings.window(), bos, eos, settings.perDocument(), settings.maxTokens());
        CorpusLines.Format format = CorpusLines.Format.of(o.data());
        String modelSpec = o.model(), data = o.data();
        boolean skipBad = o.skipBad();

        // 1. documents, tokenized where they are read
        spark.sparkContext().setJobDescription("solulens: reading and tokenizing " + data);
        JavaRDD<Doc> docs = CorpusLines.read(spark, data, format).mapPartitions(lines -> {
            SoluModel m = ExecutorModels.model(modelSpec);
            List<Doc> out = new ArrayList<>();
            while (lines.hasNext()) {
                Tuple2<Long, CorpusLines.Line> l = lines.next();
                try {
                    int[] tokens = l._2().tokens();
                    if (tokens != null) {
                        CorpusReader.checkDocument(tokens, m);
                    } else {
                        tokens = CorpusReader.documentTokens(l._2().text(), format.jsonl(), m);
                    }
                    if (tokens != null) {
                        out.add(new Doc(l._1(), tokens, null));
                    }
                } catch (IllegalArgumentException e) {
                    out.add(new Doc(l._1(), null, e.getMessage()));
                }
            }
            return out.iterator();
        }).cache();

        // 2. each partition's totals, and from them where each partition's documents start
        List<Totals> totals = new ArrayList<>(docs.mapPartitionsWithIndex((p, it) -> {
            Totals t = new Totals(p);
            while (it.hasNext()) {
                Doc d = it.next();
                if (d.bad() != null) {
                    t.skipped++;
                    if (t.firstBad == null) {
                        t.firstBad = d;
                    }
                } else {
                    t.documents++;
                    t.budget += cut.budgetOf(d.tokens().length);
                }
            }
            return List.of(t).iterator();
        }, true).collect());
        totals.sort(Comparator.comparingInt(t -> t.partition));
        Doc firstBad = totals.stream().map(t -> t.firstBad).filter(d -> d != null).findFirst().orElse(null);
        String where = format == CorpusLines.Format.TEXT || format == CorpusLines.Format.JSONL ? "line " : "row ";
        if (firstBad != null && !skipBad) {
            throw new IllegalArgumentException(data + ", " + where + firstBad.number() + ": " + firstBad.bad() + " (--skip-bad skips such documents)");
        }
        long[] firstDocument = new long[totals.size()], budgetBefore = new long[totals.size()];
        long documents = 0, budget = 0, skipped = 0;
        for (Totals t : totals) {
            firstDocument[t.partition] = documents;
            budgetBefore[t.partition] = budget;
            documents += t.documents;
            budget += t.budget;
            skipped += t.skipped;
        }

        // 3. every document cut into window pieces, from the prefix sums alone
        JavaPairRDD<Long, WindowPieces.Piece> pieces = docs.mapPartitionsWithIndex((p, it) -> {
            List<Tuple2<Long, WindowPieces.Piece>> out = new ArrayList<>();
            long index = firstDocument[p], before = budgetBefore[p];
            while (it.hasNext()) {
                Doc d = it.next();
                if (d.bad() != null) {
                    continue;
                }
                for (WindowPieces.Piece piece : cut.pieces(Math.toIntExact(index), d.tokens(), before)) {
                    out.add(new Tuple2<>(piece.window(), piece));
                }
                index++;
                before += cut.budgetOf(d.tokens().length);
            }
            return out.iterator();
        }, true).mapToPair(t -> t);
        long truncated = docs.mapPartitionsWithIndex((p, it) -> {
            long n = 0, before = budgetBefore[p];
            while (it.hasNext()) {
                Doc d = it.next();
                if (d.bad() == null) {
                    n += cut.truncated(d.tokens().length, before) ? 1 : 0;
                    before += cut.budgetOf(d.tokens().length);
                }
            }
            return List.of(n).iterator();
        }, true).reduce(Long::sum);

        // 4. windows in contiguous ranges, sorted, swept and folded per partition; the states merged on the driver
        spark.sparkContext().setJobDescription("solulens: sweeping " + budget + " corpus tokens (each task logs its tokens and tokens/s)");
        int parts = o.partitions() > 0 ? o.partitions() : spark.sparkContext().defaultParallelism();
        long effective = settings.maxTokens() > 0 ? Math.min(budget, settings.maxTokens()) : budget;
        long windowsAtMost = settings.perDocument() ? documents : (effective + documents) / (settings.window() - 1) + 1;
        List<PartState> states = new ArrayList<>(pieces.repartitionAndSortWithinPartitions(new WindowRanges(parts, windowsAtMost))
                .mapPartitionsWithIndex((p, it) -> List.of(sweepPartition(p, it, modelSpec, o, nCtx, cut)).iterator(), true)
                .collect());
        states.sort(Comparator.comparingInt(PartState::partition));
        CorpusStats stats = new CorpusStats(model.config().dMlp(), settings.k(), settings.threshold());
        long tokens = 0, dropped = 0;
        String backend = null;
        for (PartState s : states) {
            stats.merge(CorpusStats.fromBytes(s.stats()));
            tokens += s.tokens();
            dropped += s.dropped();
            backend = backend == null ? s.backend() : backend;
        }
        docs.unpersist();
        spark.sparkContext().setJobDescription(null);
        if (stats.positions() == 0) {
            throw new IllegalArgumentException(data + ": no window of " + settings.window() + " tokens could be made (" + budget + " tokens read"
                    + (skipped > 0 ? ", " + skipped + " documents skipped" : "") + ")");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String firstSkip = firstBad == null ? null : where + firstBad.number() + ": " + firstBad.bad();
        CorpusSweep.Result result = new CorpusSweep.Result(stats, tokens, skipped, firstSkip, dropped, truncated, seconds, 0,
                parts + " Spark partitions: " + (backend == null ? "none" : backend));
        String summary = output.write(model, result, command);
        log.info("corpus sweep: {} tokens in {} s, {} tokens/s", tokens, String.format(Locale.ROOT, "%.1f", seconds),
                String.format(Locale.ROOT, "%.0f", tokens / seconds));
        return new Outcome(result, summary);
    }

    /** One partition of windows (sorted by window, pieces of a window together): swept and folded on this executor. */
    private static PartState sweepPartition(int partition, Iterator<Tuple2<Long, WindowPieces.Piece>> pieces, String modelSpec,
                                            JobOptions o, int nCtx, WindowPieces cut) {
        TaskContext task = TaskContext.get();
        if (partition == failFirstAttemptOfPartition && task != null && task.attemptNumber() == 0) {
            throw new IllegalStateException("injected failure of partition " + partition + ", attempt 0 (test hook)");
        }
        Backend backend = ExecutorModels.backend(modelSpec);
        CorpusSweep.Settings settings = o.settings(nCtx);
        WindowSweeper sweeper = new WindowSweeper(backend, settings);
        CorpusStats stats = new CorpusStats(backend.model().config().dMlp(), settings.k(), settings.threshold());
        long tokens = 0, dropped = 0, windows = 0, start = System.nanoTime(), lastLog = start;
        List<WindowPieces.Piece> current = new ArrayList<>();
        long currentWindow = -1;
        while (true) {
            Tuple2<Long, WindowPieces.Piece> next = pieces.hasNext() ? pieces.next() : null;
            if (!current.isEmpty() && (next == null || next._1() != currentWindow)) {
                Window w = cut.assemble(currentWindow, current);
                if (w == null) {
                    dropped += cut.filled(current);   // the corpus' last, incomplete window
                } else {
                    sweeper.sweepInto(w, stats);   // a backend takes calls from several tasks at once
                    tokens += w.tokens().length - 1;
                    windows++;
                }
                current.clear();
                if ((System.nanoTime() - lastLog) / 1e9 >= 30) {
                    lastLog = System.nanoTime();
                    log.info("partition {}: {} windows, {} tokens, {} tokens/s", partition, windows, tokens,
                            String.format(Locale.ROOT, "%.0f", tokens / ((lastLog - start) / 1e9)));
                }
            }
            if (next == null) {
                break;
            }
            currentWindow = next._1();
            current.add(next._2());
        }
        log.info("partition {}: {} windows, {} tokens in {} s", partition, windows, tokens,
                String.format(Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e9));
        return new PartState(partition, stats.toBytes(), tokens, dropped, backend.name());
    }

    /** A document after tokenizing: its line (row) number and tokens, or why it is bad. */
    record Doc(long number, int[] tokens, String bad) implements Serializable {}

    /** One partition's document count, budget ({@link WindowPieces#budgetOf}) and bad lines. */
    static final class Totals implements Serializable {
        final int partition;
        long documents, budget, skipped;
        Doc firstBad;

        Totals(int partition) {
            this.partition = partition;
        }
    }

    /** One partition's folded statistics (as bytes) and counts. */
    record PartState(int partition, byte[] stats, long tokens, long dropped, String backend) implements Serializable {}

    /** Windows 0 .. atMost-1 in contiguous, equal ranges, so that each partition sweeps consecutive windows. */
    static final class WindowRanges extends Partitioner {
        private final int parts;
        private final long atMost;

        WindowRanges(int parts, long atMost) {
            this.parts = parts;
            this.atMost = Math.max(1, atMost);
        }

        @Override
        public int numPartitions() {
            return parts;
        }

        @Override
        public int getPartition(Object key) {
            long w = (Long) key;
            return (int) Math.min(parts - 1, Math.max(0, (long) ((double) w / atMost * parts)));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof WindowRanges r && r.parts == parts && r.atMost == atMost;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(atMost) * 31 + parts;
        }
    }
}
