package org.solulens.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.solulens.io.Npy;

/**
 * The corpus as Spark reads it, one record per line (text, JSONL) or row (.npy, Parquet), numbered in file order (a
 * folder of Parquet files: by file name):
 * {@code (number, line)}, the number 1-based for text lines as the single-machine reader counts them, 0-based for rows.
 */
final class CorpusLines {
    /** One line or row: its text (a .txt or .jsonl line, or a Parquet {@code text} value), or its token ids. */
    record Line(String text, int[] tokens) implements Serializable {}

    /** How the corpus' lines are to be read. */
    enum Format {
        TEXT, JSONL, NPY, PARQUET;

        static Format of(String path) {
            String p = path.toLowerCase(Locale.ROOT);
            return p.endsWith(".npy") ? NPY : p.endsWith(".jsonl") || p.endsWith(".json") ? JSONL : p.endsWith(".txt") ? TEXT : PARQUET;
        }

        /** Whether a text line is JSON (a Parquet text value is plain text). */
        boolean jsonl() {
            return this == JSONL;
        }

        /** The single-machine reader numbers text lines from 1, rows from 0. */
        long firstNumber() {
            return this == TEXT || this == JSONL ? 1 : 0;
        }
    }

    private CorpusLines() {}

    static JavaPairRDD<Long, Line> read(SparkSession spark, String path, Format format) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        long first = format.firstNumber();
        switch (format) {
            case TEXT, JSONL -> {
                // Hadoop's text input: a file's splits in file order (a DataFrame scan may order splits by size)
                return jsc.textFile(path).zipWithIndex().mapToPair(t -> new scala.Tuple2<>(t._2() + first, new Line(t._1(), null)));
            }
            case NPY -> {
                int[][] rows = readNpy(spark, path);
                List<scala.Tuple2<Long, Line>> numbered = new ArrayList<>(rows.length);
                for (int i = 0; i < rows.length; i++) {
                    numbered.add(new scala.Tuple2<>((long) i, new Line(null, rows[i])));
                }
                return jsc.parallelizePairs(numbered, Math.max(1, jsc.defaultParallelism()));
            }
            default -> {
                // rows in file-name order, each file's rows in their order (a scan may order files by size)
                Dataset<Row> table = spark.read().parquet(path).orderBy(functions.col("_metadata.file_path"), functions.col("_metadata.row_index"));
                List<String> columns = List.of(table.columns());
                if (columns.contains("tokens")) {
                    DataType type = table.schema().apply("tokens").dataType();
                    if (!(type instanceof ArrayType a) || !(a.elementType().equals(DataTypes.IntegerType) || a.elementType().equals(DataTypes.LongType))) {
                        throw new IllegalArgumentException("--data " + path + ": the tokens column must be a list of integers, is " + type.simpleString());
                    }
                    boolean longs = ((ArrayType) type).elementType().equals(DataTypes.LongType);
                    return table.select("tokens").javaRDD().zipWithIndex().mapToPair(t -> new scala.Tuple2<>(t._2(),
                            new Line(null, tokens(t._1(), longs))));
                }
                if (columns.contains("text")) {
                    return table.select("text").javaRDD().zipWithIndex().mapToPair(t -> new scala.Tuple2<>(t._2(),
                            new Line(t._1().isNullAt(0) ? "" : t._1().getString(0), null)));
                }
                throw new IllegalArgumentException("--data " + path + ": a Parquet corpus needs a text or a tokens column; it has " + columns);
            }
        }
    }

    private static int[] tokens(Row row, boolean longs) {
        if (row.isNullAt(0)) {
            return new int[0];
        }
        List<Object> list = row.getList(0);
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object v = list.get(i);
            long x = v == null ? -1 : ((Number) v).longValue();
            out[i] = x < Integer.MIN_VALUE || x > Integer.MAX_VALUE ? -1 : (int) x;   // out of range: refused as a bad id later
        }
        return out;
    }

    /** A .npy is one array, not splittable: the driver reads it through Hadoop (any file system) and hands out rows. */
    private static int[][] readNpy(SparkSession spark, String path) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Path local = Files.createTempFile("solulens-corpus", ".npy");
        try {
            try (InputStream in = fs.open(p)) {
                Files.copy(in, local, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return Npy.readTokenRows(local);
        } catch (IOException e) {
            throw new IllegalArgumentException("--data " + path + ": " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(local);
        }
    }
}
