package org.solulens.gpu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A kernel's arguments in order, as {@code cuLaunchKernel} takes them; each device turns them into its own form. */
public final class KernelArgs {
    /** One argument. */
    public sealed interface Arg permits Ptr, I32, I64, F32 {}

    /** A device pointer: {@code buffer} plus a byte offset, or null (buffer null). */
    public record Ptr(DeviceBuffer buffer, long offset) implements Arg {}

    public record I32(int value) implements Arg {}

    public record I64(long value) implements Arg {}

    public record F32(float value) implements Arg {}

    private final List<Arg> args = new ArrayList<>();

    /** The start of {@code buffer}; a null buffer passes a null pointer. */
    public KernelArgs ptr(DeviceBuffer buffer) {
        args.add(new Ptr(buffer, 0));
        return this;
    }

    /** A pointer {@code floats} float elements into {@code buffer}. */
    public KernelArgs ptr(DeviceBuffer buffer, long floats) {
        args.add(new Ptr(buffer, 4 * floats));
        return this;
    }

    public KernelArgs nullPtr() {
        args.add(new Ptr(null, 0));
        return this;
    }

    public KernelArgs i32(int value) {
        args.add(new I32(value));
        return this;
    }

    public KernelArgs i64(long value) {
        args.add(new I64(value));
        return this;
    }

    public KernelArgs f32(float value) {
        args.add(new F32(value));
        return this;
    }

    public List<Arg> list() {
        return Collections.unmodifiableList(args);
    }
}
