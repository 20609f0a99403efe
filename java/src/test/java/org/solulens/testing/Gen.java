package org.solulens.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.LongStream;

/**
 * Seeded random inputs for the fuzz tests: one generator per input, made from that input's seed, so that a failing
 * case is named by its seed and comes back the same on every run. Like a property-testing library's generators, the
 * edges of each range (its ends, zero, empty and full lists) come up more often than uniform draws would give them.
 */
public final class Gen {
    /**
     * Inputs per property: 1000 by default (the count these properties ran with before); {@code -Dsolulens.fuzz.tries=N}
     * for a longer run, {@code -Dsolulens.fuzz.seed=S} for other inputs.
     */
    public static final int TRIES = Integer.getInteger("solulens.fuzz.tries", 1000);
    private static final long FIRST_SEED = Long.getLong("solulens.fuzz.seed", 20261206L);

    /** One seed per input, for {@code @MethodSource("org.solulens.testing.Gen#seeds")}. */
    public static LongStream seeds() {
        return LongStream.range(0, TRIES).map(i -> FIRST_SEED + i);
    }

    private final SplittableRandom random;

    public Gen(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** An int in [lo, hi]; one time in eight an edge (lo, hi, or 0 where it lies in the range). */
    public int between(int lo, int hi) {
        return (int) between((long) lo, hi);
    }

    /** A long in [lo, hi]; one time in eight an edge (lo, hi, or 0 where it lies in the range). */
    public long between(long lo, long hi) {
        if (random.nextInt(8) == 0) {
            long[] edges = lo <= 0 && 0 <= hi ? new long[] {lo, hi, 0} : new long[] {lo, hi};
            return edges[random.nextInt(edges.length)];
        }
        return random.nextLong(lo, Math.addExact(hi, 1));
    }

    /** One of the values, each as likely. */
    @SafeVarargs
    public final <T> T of(T... values) {
        return values[random.nextInt(values.length)];
    }

    /** A value from one of the generators, each as likely. */
    @SafeVarargs
    public final <T> T oneOf(Supplier<? extends T>... generators) {
        return generators[random.nextInt(generators.length)].get();
    }

    /** True with probability {@code weight / total}. */
    public boolean chance(int weight, int total) {
        return random.nextInt(total) < weight;
    }

    /** A list of {@code minSize} to {@code maxSize} elements (the ends one time in eight). */
    public <T> List<T> list(int minSize, int maxSize, Supplier<? extends T> element) {
        int n = between(minSize, maxSize);
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(element.get());
        }
        return out;
    }

    /** A string of {@code minLength} to {@code maxLength} characters drawn from {@code alphabet}. */
    public String string(int minLength, int maxLength, String alphabet) {
        int n = between(minLength, maxLength);
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    /** The letters a-z and A-Z. */
    public static final String ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /** Printable ASCII, ' ' to '~'. */
    public static final String PRINTABLE;

    static {
        StringBuilder s = new StringBuilder();
        for (char c = ' '; c <= '~'; c++) {
            s.append(c);
        }
        PRINTABLE = s.toString();
    }
}
