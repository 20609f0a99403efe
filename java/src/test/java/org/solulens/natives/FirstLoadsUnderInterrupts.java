package org.solulens.natives;

import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.solulens.cpu.JavaMatrixProduct;
import org.solulens.cpu.MatMul;
import org.solulens.gpu.CudaDevice;
import org.solulens.gpu.EmulatedDevice;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;

/**
 * A child JVM for {@link NativeFirstLoadTest}: the first load of each native library in a fresh home and cache, each
 * from a worker thread that is interrupted before its first call and then again every few microseconds until it
 * returns. Prints "OK what: detail" per library, or "FAIL what: why" and exits with 1.
 */
public final class FirstLoadsUnderInterrupts {
    private FirstLoadsUnderInterrupts() {}

    public static void main(String[] args) throws Exception {
        boolean ok = true;
        ok &= check("OpenBLAS", () -> {
            String name = MatMul.current().name();
            if (args.length > 0 && args[0].equals("fallback")) {
                return name;   // the caller checks the warning
            }
            if (!name.startsWith("OpenBLAS")) {
                throw new AssertionError("matrix products fell back to " + name);
            }
            SplittableRandom random = new SplittableRandom(7);
            int n = 96;   // above the size at which products go to the BLAS
            double[] a = random.doubles(n * n, -1, 1).toArray(), b = random.doubles(n * n, -1, 1).toArray();
            double[] blas = MatMul.multiply(a, n, n, b, n), loops = new JavaMatrixProduct().multiply(a, n, n, b, n);
            double worst = 0;
            for (int i = 0; i < blas.length; i++) {
                worst = Math.max(worst, Math.abs(blas[i] - loops[i]));
            }
            if (!(worst < 1e-10)) {
                throw new AssertionError("OpenBLAS and the Java loops differ by " + worst);
            }
            return name + ", agrees with the Java loops to " + worst;
        });
        if (args.length > 0 && args[0].equals("fallback")) {
            System.exit(ok ? 0 : 1);
        }
        ok &= check("emulator", () -> {
            String why = EmulatedDevice.unavailableReason();
            if (why != null) {
                throw new AssertionError(why);
            }
            try (EmulatedDevice device = new EmulatedDevice()) {
                return device.name();
            }
        });
        ok &= check("JCuda", () -> {
            String why = CudaDevice.unavailableReason();
            if (why != null && why.startsWith("JCuda's native library cannot be loaded")) {
                throw new AssertionError(why);
            }
            return why == null ? "a CUDA device" : why;
        });
        ok &= check("tokenizer", () -> {
            try (SoluModel model = DemoModel.load()) {
                int[] tokens = model.tokenize("In the beginning was the Word", true);
                if (tokens.length < 3) {
                    throw new AssertionError("encoded to " + tokens.length + " tokens");
                }
                return tokens.length + " tokens";
            }
        });
        // the project's own libraries are copied out of the jar into the temporary folder: nothing of them may stay
        // there once loaded, while the JVM still runs (a killed JVM runs no exit hooks)
        ok &= check("temporary folder", () -> {
            try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")))) {
                java.util.List<String> left = files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("solulens-native")).toList();
                if (!left.isEmpty()) {
                    throw new AssertionError("left in the temporary folder after loading: " + left);
                }
            }
            return "no library copies left";
        });
        System.exit(ok ? 0 : 1);
    }

    private static boolean check(String what, Callable<String> load) throws InterruptedException {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                result.set(load.call());
            } catch (Throwable t) {
                result.set(t);
            }
        }, "interrupted-" + what);
        worker.start();
        while (worker.isAlive()) {
            worker.interrupt();
            Thread.sleep(0, 50_000);
        }
        worker.join();
        if (result.get() instanceof Throwable t) {
            System.out.println("FAIL " + what + ": " + t);
            t.printStackTrace(System.out);
            return false;
        }
        System.out.println("OK " + what + ": " + result.get());
        return true;
    }
}
