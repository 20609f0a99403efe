package org.solulens.model;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A named float32 tensor in row-major order. The data may be a view of a memory-mapped file
 * (float32 safetensors are never copied onto the heap) or a heap buffer (widened float16/bfloat16,
 * or weights made in memory).
 */
public final class Tensor {
    private final String name;
    private final int[] shape;
    private final FloatBuffer data;

    public Tensor(String name, int[] shape, FloatBuffer data) {
        this.name = name;
        this.shape = shape.clone();
        long n = numel(shape);
        if (n != data.remaining()) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " needs " + n
                    + " values, buffer has " + data.remaining());
        }
        this.data = data.slice();
    }

    public static Tensor of(String name, int[] shape, float[] values) {
        return new Tensor(name, shape, FloatBuffer.wrap(values));
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[axis];
    }

    public int size() {
        return data.capacity();
    }

    public float get(int index) {
        return data.get(index);
    }

    /** A read-only view of the values (position 0, limit {@link #size()}). */
    public FloatBuffer buffer() {
        return data.asReadOnlyBuffer();
    }

    public float[] toArray() {
        float[] out = new float[size()];
        data.duplicate().get(out);
        return out;
    }

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
