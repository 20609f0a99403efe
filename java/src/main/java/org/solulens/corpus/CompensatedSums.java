package org.solulens.corpus;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * {@code n} running sums in double with Neumaier's compensation: each keeps its rounding error beside it, so a sum of
 * millions of terms is as good as one computed in extended precision and does not drift with the corpus' length.
 */
final class CompensatedSums {
    private final double[] sum, error;

    CompensatedSums(int n) {
        sum = new double[n];
        error = new double[n];
    }

    void add(int i, double x) {
        double s = sum[i], t = s + x;
        error[i] += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
        sum[i] = t;
    }

    /**
     * Adds another set of sums, each (sum, error) pair as two terms: the result is the sum of both parts' terms as well
     * as either part holds it, whatever the order the parts are merged in (to a few units in the last place).
     */
    void merge(CompensatedSums other) {
        if (other.sum.length != sum.length) {
            throw new IllegalArgumentException("cannot merge " + other.sum.length + " sums into " + sum.length);
        }
        for (int i = 0; i < sum.length; i++) {
            add(i, other.sum[i]);
            add(i, other.error[i]);
        }
    }

    double get(int i) {
        return sum[i] + error[i];
    }

    int size() {
        return sum.length;
    }

    void write(DataOutput out) throws IOException {
        for (int i = 0; i < sum.length; i++) {
            out.writeDouble(sum[i]);
            out.writeDouble(error[i]);
        }
    }

    void read(DataInput in) throws IOException {
        for (int i = 0; i < sum.length; i++) {
            sum[i] = in.readDouble();
            error[i] = in.readDouble();
        }
    }
}
