package org.solulens.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.Ablation;
import org.solulens.backend.SweepMethod;
import org.solulens.corpus.CorpusSweep;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/**
 * The job on a real standalone cluster: a master and a worker started from the test's classpath, so that the executor
 * is a JVM of its own and what is per executor (the model, the backend) is tested outside the driver. The worker builds
 * the executor's command from a Spark home: a folder with an empty RELEASE file and jars/ holding the classpath's jars.
 */
class StandaloneClusterTest {
    @TempDir
    Path tmp;

    @Test
    void aSeparateExecutorJvmGivesTheSingleMachineResult() throws Exception {
        ModelConfig cfg = TestModels.config(16, 24, 2, 8, 12, 61, ActivationFunction.SOLU_LN);
        Path modelDir = TestModels.writeFolder(tmp.resolve("model"), cfg, TestModels.random(cfg, 31).weights());
        Random r = new Random(3);
        StringBuilder b = new StringBuilder();
        for (int d = 0; d < 25; d++) {
            b.append("{\"tokens\": ").append(java.util.Arrays.toString(TestModels.randomTokens(r, 1 + r.nextInt(20), cfg.dVocab()))).append("}\n");
        }
        Path data = Files.writeString(tmp.resolve("corpus.jsonl"), b.toString());

        // a Spark home whose jars/ is the test classpath (folders packed as jars), but for the job's own classes,
        // which reach the executor through spark.jars as an application's do
        // (outside the @TempDir, whose clean-up warns about every link it meets)
        Path sparkHome = Files.createTempDirectory("solulens-spark-home");
        Path home = Files.createDirectories(sparkHome.resolve("jars"));
        Files.createFile(sparkHome.resolve("RELEASE"));
        Path jobClasses = Path.of(CorpusSweepJob.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jobJar = jarOf(jobClasses, tmp.resolve("solulens-spark-job.jar"));
        List<String> classpath = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (p.equals(jobClasses) || !Files.exists(p)) {
                continue;
            }
            Path jar = Files.isDirectory(p) ? jarOf(p, home.resolve("classes-" + i++ + ".jar")) : Files.createSymbolicLink(home.resolve(i++ + "-" + p.getFileName()), p);
            classpath.add(jar.toString());
        }
        String cp = String.join(File.pathSeparator, classpath);
        int masterPort = freePort();
        String opens = String.join(" ", JVM_OPTIONS);
        List<Process> cluster = new ArrayList<>();
        try {
            cluster.add(start(sparkHome, cp, tmp.resolve("master.log"), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                    String.valueOf(masterPort), "--webui-port", String.valueOf(freePort())));
            waitForPort(masterPort);
            cluster.add(start(sparkHome, cp, tmp.resolve("worker.log"), "org.apache.spark.deploy.worker.Worker", "spark://127.0.0.1:" + masterPort,
                    "--host", "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port", String.valueOf(freePort())));

            SparkSession spark = SparkSession.builder().master("spark://127.0.0.1:" + masterPort).appName("solulens-standalone-test")
                    .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                    .config("spark.jars", jobJar.toString()).config("spark.executor.memory", "1g")
                    .config("spark.executor.extraJavaOptions", opens + " -Dai.djl.offline=true").getOrCreate();
            try {
                JobOptions o = new JobOptions(modelDir.toString(), data.toString(), tmp.resolve("out").toString(), false, "post", "zero", "exact", 9,
                        false, 0, 5, 0.05, false, 3);
                CorpusSweepJob.Outcome outcome = CorpusSweepJob.run(spark, o, "test");
                CorpusSweep.Result expected;
                try (SoluModel model = ModelFolder.load(modelDir); CpuBackend cpu = new CpuBackend(model)) {
                    expected = CorpusSweep.run(cpu, data, new CorpusSweep.Settings(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, 9, false, 0, 5,
                            0.05, 8, false), null, false, 60, true);
                }
                CorpusSweepJobTest.assertSameResult(expected, outcome.result(), "standalone cluster");
                long executorIds = spark.sparkContext().getExecutorIds().size();
                assertEquals(1, executorIds, "one executor, in the worker's JVM");
                try (Stream<Path> apps = Files.list(tmp.resolve("work"))) {
                    // the worker's folder for the application's executor, where that JVM's output went
                    assertTrue(apps.anyMatch(app -> Files.isRegularFile(app.resolve("0/stderr"))), "the worker started no executor JVM");
                }
            } finally {
                spark.stop();
            }
        } finally {
            for (Process p : cluster) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
            }
            try (Stream<Path> walk = Files.walk(sparkHome)) {   // links and packed jars; never what the links point to
                for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The options Spark's launcher gives a JVM on Java 17, plus the exact sweep's vector module. */
    private static final List<String> JVM_OPTIONS = List.of("--add-modules", "jdk.incubator.vector", "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED", "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true");

    private Process start(Path sparkHome, String cp, Path log, String main, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(JVM_OPTIONS);
        command.addAll(List.of("-Xmx512m", "-cp", cp, main));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_WORKER_DIR", tmp.resolve("work").toString());
        return pb.start();
    }

    private static Path jarOf(Path classes, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file); Stream<Path> walk = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace(File.separatorChar, '/')));
                Files.copy(p, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void waitForPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the master did not open port " + port + " within a minute");
    }
}
