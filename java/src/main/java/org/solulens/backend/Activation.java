package org.solulens.backend;

import java.util.Arrays;

/** One cached activation: a hook name, its shape (no batch dimension) and its values in row-major order. */
public record Activation(String name, int[] shape, double[] data) {
    /** Checks that the shape's product is the number of values. */
    public Activation {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " does not hold " + data.length + " values");
        }
    }

    /** Value at a multi-index. */
    public double at(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(name + " has " + shape.length + " dimensions, got index " + Arrays.toString(index));
        }
        int flat = 0;
        for (int k = 0; k < shape.length; k++) {
            if (index[k] < 0 || index[k] >= shape[k]) {
                throw new IndexOutOfBoundsException(name + ": index " + Arrays.toString(index) + " outside shape " + Arrays.toString(shape));
            }
            flat = flat * shape[k] + index[k];
        }
        return data[flat];
    }
}
