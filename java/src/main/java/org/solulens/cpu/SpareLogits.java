package org.solulens.cpu;

import java.lang.ref.SoftReference;
import java.util.concurrent.atomic.AtomicReference;
import org.solulens.backend.ForwardResult;

/**
 * The last forward pass's logits [P, d_vocab], which no hook asked for, held for the exact sweep of that same forward
 * result: at site post the sweep derives its rows A from them in place ({@link SweepConstants#unembedFromLogits})
 * instead of a second unembedding into a fresh array (in a fresh JVM, 0.2 s of a 64-token sweep of solu-1l became
 * 0.02 s; benchmarks/NOTES.md). Softly held: memory pressure may take them back, and the sweep then makes them again
 * from the result's ln_final hook, with the same bits. Only the forward result they came from may take them, once.
 */
final class SpareLogits {
    private record Entry(ForwardResult result, double[] logits) {}

    private final AtomicReference<SoftReference<Entry>> held = new AtomicReference<>();

    /** Holds {@code logits}, the logits of {@code result} that its caller no longer reads, in place of any held before. */
    void offer(ForwardResult result, double[] logits) {
        held.set(new SoftReference<>(new Entry(result, logits)));
    }

    /** {@return the logits held for {@code result} (the same object), now the caller's to overwrite, or null} */
    double[] take(ForwardResult result) {
        SoftReference<Entry> ref = held.get();
        Entry e = ref == null ? null : ref.get();
        if (e == null || e.result() != result || !held.compareAndSet(ref, null)) {
            return null;
        }
        return e.logits();
    }

    /** {@return whether logits are held for {@code result}} */
    boolean holds(ForwardResult result) {
        SoftReference<Entry> ref = held.get();
        Entry e = ref == null ? null : ref.get();
        return e != null && e.result() == result;
    }

    /** Lets go of whatever is held. */
    void clear() {
        held.set(null);
    }
}
