package org.solulens.bench;

/** One kernel, its inputs made and its device open: {@link #run()} is one call, finished (a device is synchronised). */
interface KernelCase extends AutoCloseable {
    /** The kernels every device offers, in table order; copy, matmul and exp also give the reference rates. */
    String[] KERNELS = {"copy", "exp", "matmul", "solu", "gelu", "layernorm", "attention", "cross-entropy", "forward", "sweep", "sweep-mid", "decomposition"};

    /** Runs the kernel once; returns something derived from the output so that the JIT cannot drop the work. */
    Object run();

    @Override
    default void close() {}
}
