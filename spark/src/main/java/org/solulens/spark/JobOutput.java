package org.solulens.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.solulens.corpus.CorpusReport;
import org.solulens.corpus.CorpusStats;
import org.solulens.corpus.CorpusSweep;
import org.solulens.model.SoluModel;

/**
 * The job's output folder on any Hadoop file system: the single-machine command's files plus {@code neurons.parquet},
 * written into a hidden staging folder beside it ({@code .NAME.partial-APP}) and renamed into place only when complete,
 * so that nothing half-written lies where a reader looks (rename is atomic on HDFS and local disks; on object stores it
 * is a copy, and the staging folder's name still keeps readers off).
 */
final class JobOutput {
    private final SparkSession spark;
    private final Path out;
    private final FileSystem fs;

    private JobOutput(SparkSession spark, Path out, FileSystem fs) {
        this.spark = spark;
        this.out = out;
        this.fs = fs;
    }

    /** Checks the output path before any work: an existing folder needs {@code overwrite}. */
    static JobOutput open(SparkSession spark, String out, boolean overwrite) throws IOException {
        Path p = new Path(out);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Path qualified = fs.makeQualified(p);
        if (fs.exists(qualified)) {
            if (!fs.getFileStatus(qualified).isDirectory()) {
                throw new IllegalArgumentException("--out " + out + " is a file; expected a folder (created if missing)");
            }
            if (!overwrite && fs.listStatus(qualified).length > 0) {
                throw new IllegalArgumentException("--out " + out + " already holds files; add --overwrite to replace them, or choose another folder");
            }
        }
        return new JobOutput(spark, qualified, fs);
    }

    /** Writes every output and puts the folder in place; returns the summary's text. */
    String write(SoluModel model, CorpusSweep.Result result, String command) throws IOException {
        java.nio.file.Path local = Files.createTempDirectory("solulens-spark-report");
        Path staging = new Path(out.getParent(), "." + out.getName() + ".partial-" + spark.sparkContext().applicationId());
        try {
            String summary = CorpusReport.write(local, model, result, command);
            fs.delete(staging, true);
            neuronTable(result.stats()).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(new Path(staging, "neurons.parquet").toString());
            try (Stream<java.nio.file.Path> files = Files.list(local)) {
                for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files::iterator) {
                    fs.copyFromLocalFile(false, true, new Path(f.toUri()), new Path(staging, f.getFileName().toString()));
                }
            }
            Path old = null;
            if (fs.exists(out)) {
                old = new Path(out.getParent(), "." + out.getName() + ".old-" + spark.sparkContext().applicationId());
                fs.delete(old, true);
                rename(out, old);
            }
            rename(staging, out);
            if (old != null) {
                fs.delete(old, true);
            }
            return summary;
        } finally {
            fs.delete(staging, true);
            deleteLocal(local);
        }
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("could not rename " + from + " to " + to);
        }
    }

    /** neurons.csv as a table: one row per neuron, the same columns. */
    private org.apache.spark.sql.Dataset<Row> neuronTable(CorpusStats stats) {
        List<String> names = CorpusReport.neuronColumns();
        List<StructField> fields = new ArrayList<>();
        double[][] columns = new double[names.size()][];
        for (int c = 0; c < names.size(); c++) {
            boolean integer = names.get(c).equals("neuron") || names.get(c).equals("positions");
            fields.add(DataTypes.createStructField(names.get(c), integer ? DataTypes.LongType : DataTypes.DoubleType, false));
            columns[c] = CorpusReport.neuronColumn(stats, c);
        }
        List<Row> rows = new ArrayList<>(stats.neurons());
        for (int n = 0; n < stats.neurons(); n++) {
            Object[] values = new Object[names.size()];
            for (int c = 0; c < names.size(); c++) {
                values[c] = fields.get(c).dataType() == DataTypes.LongType ? (Object) (long) columns[c][n] : (Object) columns[c][n];
            }
            rows.add(RowFactory.create(values));
        }
        return spark.createDataFrame(rows, DataTypes.createStructType(fields));
    }

    private static void deleteLocal(java.nio.file.Path dir) throws IOException {
        try (Stream<java.nio.file.Path> walk = Files.walk(dir)) {
            for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
