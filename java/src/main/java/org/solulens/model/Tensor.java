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

    /** A tensor over {@code data} (not copied); throws unless it holds exactly the shape's number of values. */
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

    /** {@return a heap tensor over a copy of {@code values}} */
    public static Tensor of(String name, int[] shape, float[] values) {
        return new Tensor(name, shape, FloatBuffer.wrap(values));
    }

    /** {@return its state-dict name} */
    public String name() {
        return name;
    }

    /** {@return its shape, a copy} */
    public int[] shape() {
        return shape.clone();
    }

    /** {@return its size along {@code axis}} */
    public int dim(int axis) {
        return shape[axis];
    }

    /** {@return its number of values} */
    public int size() {
        return data.capacity();
    }

    /** {@return the value at a row-major {@code index}} */
    public float get(int index) {
        return data.get(index);
    }

    /** A read-only view of the values (position 0, limit {@link #size()}). */
    public FloatBuffer buffer() {
        return data.asReadOnlyBuffer();
    }

    /** {@return its values, copied onto the heap in row-major order} */
    public float[] toArray() {
        float[] out = new float[size()];
        data.duplicate().get(out);
        return out;
    }

    /** {@return the number of values of a tensor of this shape (the product of its dimensions)} */
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
