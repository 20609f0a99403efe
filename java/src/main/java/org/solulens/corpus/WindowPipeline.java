package org.solulens.corpus;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Function;

/**
 * Windows through several workers, results back in window order: one thread reads and packs windows (so reading and
 * tokenizing overlap the sweeps), one thread per worker (a backend: a GPU, the emulator, or the CPU with all its
 * cores) takes the next window from a shared queue, and {@link #next} hands the results out strictly in window order,
 * whatever order the workers finish in — so that folding them gives the same numbers with one worker or many.
 * The first failure anywhere stops everything and is rethrown by {@link #next}.
 */
final class WindowPipeline<R> implements AutoCloseable {
    private static final Object END = new Object();

    private final BlockingQueue<Object> windows;
    private final Map<Long, R> done = new HashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private long nextIndex, total = Long.MAX_VALUE;
    private Throwable failure;
    private volatile boolean stopped;

    /**
     * @param source windows in order (read on the reader thread); their indices must run 0, 1, 2, ... from {@code first}
     * @param workers one function per worker, each used by its own thread only
     */
    WindowPipeline(Iterator<Window> source, long first, List<Function<Window, R>> workers, int ahead) {
        this.windows = new ArrayBlockingQueue<>(Math.max(2, ahead));
        this.nextIndex = first;
        Thread reader = new Thread(() -> {
            long count = first;
            try {
                while (!stopped && source.hasNext()) {
                    windows.put(source.next());
                    count++;
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                fail(t);
            }
            synchronized (this) {
                total = count;
                notifyAll();
            }
            for (int i = 0; i < workers.size(); i++) {
                try {
                    windows.put(END);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "solulens-corpus-reader");
        threads.add(reader);
        for (int i = 0; i < workers.size(); i++) {
            Function<Window, R> work = workers.get(i);
            threads.add(new Thread(() -> {
                try {
                    for (Object o; !stopped && (o = windows.take()) != END; ) {
                        Window w = (Window) o;
                        R r = work.apply(w);
                        synchronized (this) {
                            done.put(w.index(), r);
                            notifyAll();
                        }
                    }
                } catch (InterruptedException e) {
                    // stopped
                } catch (Throwable t) {
                    fail(t);
                }
            }, "solulens-corpus-worker-" + i));
        }
        threads.forEach(t -> t.setDaemon(true));
        threads.forEach(Thread::start);
    }

    private synchronized void fail(Throwable t) {
        if (failure == null) {
            failure = t;
        }
        stopped = true;
        notifyAll();
    }

    /** The next window's result in window order, or null when every window is done. */
    synchronized R next() throws InterruptedException {
        while (true) {
            if (failure != null) {
                if (failure instanceof RuntimeException e) {
                    throw e;
                }
                if (failure instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException(failure);
            }
            R r = done.remove(nextIndex);
            if (r != null) {
                nextIndex++;
                return r;
            }
            if (nextIndex >= total) {
                return null;
            }
            wait();
        }
    }

    @Override
    public void close() {
        stopped = true;
        threads.forEach(Thread::interrupt);
    }
}
