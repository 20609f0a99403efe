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
