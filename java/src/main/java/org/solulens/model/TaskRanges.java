package org.solulens.model;

/**
 * Splits {@code [0, items)} into a few consecutive ranges per core, for parallel loops whose tasks each reuse one
 * scratch buffer over their range: a new buffer per item (a block, a row, a part) is fresh heap in a fresh JVM, whose
 * pages cost several µs each on the VMs measured (benchmarks/NOTES.md). Task {@code t} of {@code tasks} takes
 * {@code [start(items, tasks, t), start(items, tasks, t + 1))}.
 */
public final class TaskRanges {
    private TaskRanges() {}

    /** How many tasks for {@code items} items: four per worker of the common pool (for balance), at most one per item. */
    public static int count(int items) {
        return Math.min(items, 4 * java.util.concurrent.ForkJoinPool.getCommonPoolParallelism());
    }

    /** The first item of task {@code task} of {@code tasks} (with {@code task == tasks}: {@code items}). */
    public static int start(int items, int tasks, int task) {
        return (int) ((long) items * task / tasks);
    }
}
