package org.solulens.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.Ablation;
import org.solulens.backend.SweepMethod;
import org.solulens.corpus.CorpusStats;
import org.solulens.corpus.CorpusSweep;
import org.solulens.corpus.Example;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The Spark job in local[2] against the single-machine corpus sweep on the same data and options. */
class CorpusSweepJobTest {
    private static SparkSession spark;

    @TempDir
    static Path tmp;

    private static final ModelConfig CFG = TestModels.config(16, 24, 2, 8, 12, 61, ActivationFunction.SOLU_LN);
    private static Path modelDir;

    @BeforeAll
    static void startSpark() throws IOException {
        // local[2 threads, 2 attempts per task]: local mode ignores spark.task.maxFailures
        spark = SparkSession.builder().master("local[2,2]").appName("solulens-test").config("spark.ui.enabled", "false")
                .config("spark.task.maxFailures", "2").config("spark.sql.shuffle.partitions", "4").getOrCreate();
        SoluModel model = TestModels.random(CFG, 31);
        modelDir = TestModels.writeFolder(tmp.resolve("model"), CFG, model.weights());
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    /** A JSONL corpus of token documents of random lengths, with a blank line among them. */
    private static Path corpus(String name, int documents, long seed) throws IOException {
        Random r = new Random(seed);
        StringBuilder b = new StringBuilder();
        for (int d = 0; d < documents; d++) {
            int[] t = TestModels.randomTokens(r, 1 + r.nextInt(20), CFG.dVocab());
            b.append("{\"tokens\": ").append(java.util.Arrays.toString(t)).append("}\n");
            if (d == documents / 2) {
                b.append("\n");
            }
        }
        return Files.writeString(tmp.resolve(name), b.toString());
    }

    private static JobOptions options(Path data, Path out, boolean perDocument, int partitions) {
        return new JobOptions(modelDir.toString(), data.toString(), out.toString(), false, "post", "zero", "exact", 9, perDocument, 0, 5, 0.05,
                false, partitions);
    }

    private static CorpusSweep.Result singleMachine(Path data, boolean perDocument) throws IOException {
        try (SoluModel model = ModelFolder.load(modelDir); CpuBackend cpu = new CpuBackend(model)) {
            CorpusSweep.Settings s = new CorpusSweep.Settings(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, 9, perDocument, 0, 5, 0.05, 8, false);
            return CorpusSweep.run(cpu, data, s, null, false, 60, true);
        }
    }

    @Test
    void theJobEqualsTheSingleMachineSweepForAnyPartitioning() throws Exception {
        Path data = corpus("corpus.jsonl", 30, 7);
        for (boolean perDocument : new boolean[] {false, true}) {
            CorpusSweep.Result expected = singleMachine(data, perDocument);
            for (int partitions : new int[] {1, 2, 7}) {
                String where = (perDocument ? "per document" : "packed") + ", " + partitions + " partitions";
                Path out = tmp.resolve("out-" + perDocument + "-" + partitions);
                CorpusSweepJob.Outcome o = CorpusSweepJob.run(spark, options(data, out, perDocument, partitions), "test");
                assertSameResult(expected, o.result(), where);
                assertArrayEquals(Files.readAllBytes(out.resolve("examples.jsonl")), examplesOf(data, perDocument), where);
                assertTrue(Files.isRegularFile(out.resolve("neurons.csv")) && Files.isRegularFile(out.resolve("index.html")), where);
                List<Row> table = spark.read().parquet(out.resolve("neurons.parquet").toString()).orderBy("neuron").collectAsList();
                assertEquals(CFG.dMlp(), table.size(), where);
                assertEquals(expected.stats().mean(3), table.get(3).getDouble(table.get(3).fieldIndex("mean_delta")), 1e-12, where);
                try (Stream<Path> s = Files.list(tmp)) {
                    assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".")), where + ": a staging folder was left");
                }
            }
        }
    }

    private static byte[] examplesOf(Path data, boolean perDocument) throws IOException {
        Path out = Files.createTempDirectory(tmp, "single");
        try (SoluModel model = ModelFolder.load(modelDir)) {
            org.solulens.corpus.CorpusReport.write(out, model, singleMachine(data, perDocument), "test");
        }
        return Files.readAllBytes(out.resolve("examples.jsonl"));
    }

    @Test
    void aTaskThatFailsOnceLeavesTheResultUnchanged() throws Exception {
        Path data = corpus("retried.jsonl", 20, 11);
        CorpusSweep.Result expected = singleMachine(data, false);
        CorpusSweepJob.failFirstAttemptOfPartition = 1;
        try {
            CorpusSweepJob.Outcome o = CorpusSweepJob.run(spark, options(data, tmp.resolve("retried"), false, 3), "test");
            assertSameResult(expected, o.result(), "partition 1 failed once");
        } finally {
            CorpusSweepJob.failFirstAttemptOfPartition = -1;
        }
    }

    @Test
    void badInputIsNamedAndAnExistingOutputIsKept() throws Exception {
        Path data = Files.writeString(tmp.resolve("bad.jsonl"), "{\"tokens\": [1, 2, 3]}\n{\"tokens\": [1, 999]}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CorpusSweepJob.run(spark, options(data, tmp.resolve("bad-out"), false, 2), "test"));
        assertTrue(e.getMessage().contains("bad.jsonl, line 2: token id 999 at position 1 is out of range"), e.getMessage());
        Path existing = Files.createDirectories(tmp.resolve("existing"));
        Files.writeString(existing.resolve("keep.txt"), "earlier");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> CorpusSweepJob.run(spark, options(corpus("c.jsonl", 5, 1), existing, false, 2), "test"));
        assertTrue(refused.getMessage().contains("already holds files"), refused.getMessage());
        assertEquals("earlier", Files.readString(existing.resolve("keep.txt")));
    }

    @Test
    void npyAndParquetCorporaGiveTheResultsOfTheSameDocumentsAsJsonLines() throws Exception {
        // documents of equal length (a .npy is a rectangle)
        Random r = new Random(5);
        int[][] rows = new int[14][];
        StringBuilder jsonl = new StringBuilder();
        for (int d = 0; d < rows.length; d++) {
            rows[d] = TestModels.randomTokens(r, 7, CFG.dVocab());
            jsonl.append("{\"tokens\": ").append(java.util.Arrays.toString(rows[d])).append("}\n");
        }
        Path json = Files.writeString(tmp.resolve("rect.jsonl"), jsonl.toString());
        java.nio.ByteBuffer npy = npyInt32(rows);
        Path npyFile = Files.write(tmp.resolve("rect.npy"), npy.array());
        // Parquet: three files, written in order (part-00000 holds the first rows)
        List<Row> tableRows = new java.util.ArrayList<>();
        for (int[] row : rows) {
            tableRows.add(org.apache.spark.sql.RowFactory.create((Object) java.util.Arrays.stream(row).boxed().toArray(Integer[]::new)));
        }
        org.apache.spark.sql.types.StructType schema = org.apache.spark.sql.types.DataTypes.createStructType(List.of(
                org.apache.spark.sql.types.DataTypes.createStructField("tokens",
                        org.apache.spark.sql.types.DataTypes.createArrayType(org.apache.spark.sql.types.DataTypes.IntegerType), false)));
        org.apache.spark.api.java.JavaSparkContext jsc = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path parquet = tmp.resolve("rect.parquet");
        spark.createDataFrame(jsc.parallelize(tableRows, 3), schema).write().parquet(parquet.toString());

        CorpusSweep.Result expected = singleMachine(json, false);
        assertSameResult(expected, singleMachine(npyFile, false), "single machine, .npy");
        assertSameResult(expected, CorpusSweepJob.run(spark, options(npyFile, tmp.resolve("from-npy"), false, 2), "test").result(), ".npy");
        assertSameResult(expected, CorpusSweepJob.run(spark, options(parquet, tmp.resolve("from-parquet"), false, 3), "test").result(), "Parquet");
    }

    @Test
    void aTextCorpusIsTokenizedOnTheExecutorsAsOnOneMachine() throws Exception {
        List<String> lines = new java.util.ArrayList<>();
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(
                CorpusSweepJobTest.class.getResourceAsStream("/org/solulens/corpus/kjv-john.txt"), java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null && lines.size() < 3; ) {
                lines.add(line);
            }
        }
        lines.add(1, "");   // a blank line: no document
        Path text = Files.write(tmp.resolve("john.txt"), lines);
        CorpusSweep.Settings s = new CorpusSweep.Settings(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, 32, false, 400, 5, 0.05, 8, false);
        CorpusSweep.Result expected;
        try (SoluModel demo = org.solulens.model.DemoModel.load(); CpuBackend cpu = new CpuBackend(demo)) {
            expected = CorpusSweep.run(cpu, text, s, null, false, 60, true);
        }
        JobOptions o = new JobOptions("demo", text.toString(), tmp.resolve("from-text").toString(), false, "post", "zero", "exact", 32, false, 400,
                5, 0.05, false, 2);
        assertSameResult(expected, CorpusSweepJob.run(spark, o, "test").result(), "text, demo model");
    }

    private static java.nio.ByteBuffer npyInt32(int[][] rows) {
        String header = "{'descr': '<i4', 'fortran_order': False, 'shape': (" + rows.length + ", " + rows[0].length + "), }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + header.length() + 4 * rows.length * rows[0].length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (int[] row : rows) {
            for (int t : row) {
                b.putInt(t);
            }
        }
        return b;
    }

    static void assertSameResult(CorpusSweep.Result a, CorpusSweep.Result b, String where) {
        assertEquals(a.tokens(), b.tokens(), where + ": tokens");
        assertEquals(a.dropped(), b.dropped(), where + ": dropped");
        assertEquals(a.truncated(), b.truncated(), where + ": truncated");
        assertEquals(a.skipped(), b.skipped(), where + ": skipped");
        CorpusStats x = a.stats(), y = b.stats();
        assertEquals(x.windows(), y.windows(), where);
        assertEquals(x.positions(), y.positions(), where);
        for (int n = 0; n < x.neurons(); n++) {
            String at = where + ", neuron " + n;
            close(x.mean(n), y.mean(n), at);
            close(x.meanAbs(n), y.meanAbs(n), at);
            close(x.std(n), y.std(n), at);
            close(x.correlation(n), y.correlation(n), at);
            close(x.activationMean(n), y.activationMean(n), at);
            assertEquals(x.min(n), y.min(n), at);
            assertEquals(x.max(n), y.max(n), at);
            assertEquals(x.fractionAbove(n), y.fractionAbove(n), at);
            assertArrayEquals(x.histogram(n), y.histogram(n), at);
            assertEquals(places(x.top(n)), places(y.top(n)), at + " top");
            assertEquals(places(x.bottom(n)), places(y.bottom(n)), at + " bottom");
            assertEquals(places(x.mostActive(n)), places(y.mostActive(n)), at + " most active");
        }
        close(x.wholeMean(), y.wholeMean(), where + " whole");
        assertArrayEquals(x.wholeHistogram(), y.wholeHistogram(), where);
    }

    private static List<String> places(List<Example> examples) {
        return examples.stream().map(e -> e.window() + "/" + e.windowPosition() + "/" + e.document() + "/" + e.position() + "/"
                + Double.doubleToLongBits(e.delta())).toList();
    }

    private static void close(double x, double y, String what) {
        assertTrue(x == y || Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y)), what + ": " + x + " vs " + y);
    }
}
