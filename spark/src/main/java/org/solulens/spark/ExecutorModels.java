package org.solulens.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.solulens.backend.Backend;
import org.solulens.backend.Backends;
import org.solulens.gpu.CudaDevice;
import org.solulens.gpu.GpuBackend;
import org.solulens.model.DemoModel;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;

/**
 * What each executor JVM loads once and keeps for all its tasks: the model (read from the path the job names, never
 * shipped in a closure) and a backend per device: the GPU that {@link TaskContext#resources()} assigns the task when the
 * executor has GPUs, else the CPU. Closed when the executor's JVM stops.
 */
final class ExecutorModels {
    private static final Map<String, SoluModel> MODELS = new HashMap<>();
    private static final Map<String, Backend> BACKENDS = new HashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "solulens-executor-close"));
    }

    private ExecutorModels() {}

    /** The model at {@code spec} (a folder, or a bundled name), loaded once per JVM. */
    static synchronized SoluModel model(String spec) {
        return MODELS.computeIfAbsent(spec, s -> {
            SoluModel bundled = DemoModel.byName(s);
            if (bundled != null) {
                return bundled;
            }
            try {
                return ModelFolder.load(Path.of(s));
            } catch (IOException e) {
                throw new UncheckedIOException("--model " + s + " cannot be read on this executor: " + e.getMessage(), e);
            }
        });
    }

    /** The backend for the current task: its GPU, if Spark assigned one, else the CPU; made once per device and JVM. */
    static synchronized Backend backend(String spec) {
        String gpu = assignedGpu();
        String key = spec + "@" + (gpu == null ? "cpu" : "cuda:" + gpu);
        return BACKENDS.computeIfAbsent(key, k -> {
            SoluModel model = model(spec);
            if (gpu == null) {
                return Backends.create(model, Backends.Choice.CPU);
            }
            return new GpuBackend(model, new CudaDevice(Integer.parseInt(gpu), false));
        });
    }

    /** The address of the GPU Spark gave the running task ({@code spark.task.resource.gpu.amount}), or null. */
    private static String assignedGpu() {
        TaskContext task = TaskContext.get();
        if (task == null) {
            return null;
        }
        ResourceInformation gpus = task.resources().get("gpu").getOrElse(() -> null);
        return gpus == null || gpus.addresses().length == 0 ? null : gpus.addresses()[0];
    }

    private static synchronized void closeAll() {
        BACKENDS.values().forEach(Backend::close);
        BACKENDS.clear();
        MODELS.values().forEach(SoluModel::close);
        MODELS.clear();
    }
}
