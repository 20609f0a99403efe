package org.solulens.model.pth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.solulens.model.ModelFormatException;
import org.solulens.model.Tensor;

/**
 * A PyTorch zip checkpoint ({@code torch.save(state_dict, "model_final.pth")}) read without Python and without running
 * its pickle: {@code data.pkl} goes through {@link SafePickle}, and each tensor comes out of its storage entry
 * ({@code <archive>/data/<key>}), memory-mapped when it is float32, stored uncompressed and laid out row-major
 * (PyTorch writes it so), widened or gathered onto the heap otherwise. Storage offsets, strides and storages shared by
 * several tensors are honoured.
 */
public final class TorchCheckpoint implements AutoCloseable {
    /** A tensor as {@code _rebuild_tensor_v2} describes it. */
    record TensorRef(Storage storage, long offset, int[] shape, long[] stride) {}

    /** A storage reference: the persistent id {@code ('storage', torch.FloatStorage, key, location, numel)}. */
    record Storage(String key, String type, long numel) {}

    private final Path file;
    private final FileChannel channel;
    private final Map<String, ZipDirectory.Entry> entries;
    private final String prefix;
    private final Map<String, TensorRef> tensors = new LinkedHashMap<>();

    private TorchCheckpoint(Path file, FileChannel channel) throws IOException {
        this.file = file;
        this.channel = channel;
        this.entries = ZipDirectory.read(channel, file);
        String pickle = entries.keySet().stream().filter(n -> n.endsWith("/data.pkl") && n.indexOf('/') == n.lastIndexOf('/')).findFirst()
                .orElseThrow(() -> new ModelFormatException(file + ": a zip without <archive>/data.pkl is not a PyTorch checkpoint"
                        + " (a legacy, pre-1.6 torch.save file? re-save it with a current PyTorch)"));
        this.prefix = pickle.substring(0, pickle.length() - "data.pkl".length());
        ZipDirectory.Entry order = entries.get(prefix + "byteorder");
        if (order != null && !new String(bytes(order), java.nio.charset.StandardCharsets.US_ASCII).trim().equals("little")) {
            throw new ModelFormatException(file + ": a big-endian checkpoint; SoluLens reads little-endian ones");
        }
        Object root = SafePickle.load(bytes(entries.get(pickle)), file.getFileName() + ": " + pickle, new Calls());
        if (!(root instanceof Map<?, ?> map)) {
            throw new ModelFormatException(file + ": holds " + SafePickle.describe(root) + ", not a state dict (a dict of tensors)");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof TensorRef t)) {
                throw new ModelFormatException(file + ": entry " + e.getKey() + " of its dict is " + SafePickle.describe(e.getValue())
                        + ", not a tensor: not a plain state dict (torch.save(model.state_dict(), ...))");
            }
            tensors.put(name, t);
        }
    }

    /** Opens and indexes the checkpoint; tensors are read when asked for. */
    public static TorchCheckpoint open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new TorchCheckpoint(file, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    /** Tensor names in the order the state dict holds them. */
    public java.util.Set<String> names() {
        return java.util.Collections.unmodifiableSet(tensors.keySet());
    }

    public int[] shape(String name) {
        return ref(name).shape().clone();
    }

    private TensorRef ref(String name) {
        TensorRef t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(file + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** Reads one tensor as float32 (float32, float16, bfloat16 and float64 storages). */
    public Tensor read(String name) throws IOException {
        TensorRef t = ref(name);
        int width = switch (t.storage().type()) {
            case "FloatStorage" -> 4;
            case "HalfStorage", "BFloat16Storage" -> 2;
            case "DoubleStorage" -> 8;
            default -> throw new ModelFormatException(file + ": tensor '" + name + "' is stored as " + t.storage().type()
                    + "; model weights must be float32, float16, bfloat16 or float64");
        };
        long numel = Tensor.numel(t.shape());
        ZipDirectory.Entry entry = entries.get(prefix + "data/" + t.storage().key());
        if (entry == null) {
            throw new ModelFormatException(file + ": tensor '" + name + "' refers to storage " + t.storage().key() + ", which is not in the zip");
        }
        if (entry.size() < t.storage().numel() * width) {
            throw new ModelFormatException(file + ": storage " + t.storage().key() + " holds " + entry.size() + " bytes, its reference says "
                    + t.storage().numel() + " elements of " + width);
        }
        long last = t.offset();
        boolean contiguous = true;
        long expected = 1;
        for (int d = t.shape().length - 1; d >= 0; d--) {
            if (t.shape()[d] < 0 || t.stride()[d] < 0) {
                throw new ModelFormatException(file + ": tensor '" + name + "' has a negative size or stride");
            }
            last += (long) Math.max(0, t.shape()[d] - 1) * t.stride()[d];
            contiguous &= t.shape()[d] == 1 || t.stride()[d] == expected;
            expected *= t.shape()[d];
        }
        if (numel > 0 && (t.offset() < 0 || last >= t.storage().numel())) {
            throw new ModelFormatException(file + ": tensor '" + name + "' reaches element " + last + " of a storage of " + t.storage().numel());
        }
        if (numel > Integer.MAX_VALUE) {
            throw new ModelFormatException(file + ": tensor '" + name + "' has " + numel + " elements, more than one buffer holds");
        }
        if (width == 4 && contiguous && entry.method() == 0) {
            FloatBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, entry.dataOffset() + 4 * t.offset(), 4 * numel)
                    .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            return new Tensor(name, t.shape(), mapped);
        }
        ByteBuffer storage = storageBytes(entry, (last + 1) * width);
        float[] out = new float[(int) numel];
        int[] index = new int[t.shape().length];
        for (int i = 0; i < out.length; i++) {
            long element = t.offset();
            for (int d = 0; d < index.length; d++) {
                element += index[d] * t.stride()[d];
            }
            out[i] = value(storage, element, t.storage().type());
            for (int d = index.length - 1; d >= 0 && ++index[d] == t.shape()[d]; d--) {
                index[d] = 0;
            }
        }
        return Tensor.of(name, t.shape(), out);
    }

    private static float value(ByteBuffer b, long element, String type) {
        int at = (int) element;
        return switch (type) {
            case "FloatStorage" -> b.getFloat(4 * at);
            case "DoubleStorage" -> (float) b.getDouble(8 * at);
            case "HalfStorage" -> org.solulens.model.SafetensorsReader.halfToFloat(b.getShort(2 * at));
            default -> Float.intBitsToFloat((b.getShort(2 * at) & 0xffff) << 16);   // bfloat16
        };
    }

    /** The first {@code bytes} bytes of an entry: mapped when stored, inflated when compressed. */
    private ByteBuffer storageBytes(ZipDirectory.Entry entry, long bytes) throws IOException {
        if (bytes > Integer.MAX_VALUE) {
            throw new ModelFormatException(file + ": entry " + entry.name() + " is too large to gather (" + bytes + " bytes)");
        }
        if (entry.method() == 0) {
            return channel.map(FileChannel.MapMode.READ_ONLY, entry.dataOffset(), bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        return ByteBuffer.wrap(bytes(entry)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A whole entry's bytes (stored or deflated), for data.pkl and small entries. */
    private byte[] bytes(ZipDirectory.Entry entry) throws IOException {
        if (entry.size() > 1_000_000_000L) {
            throw new ModelFormatException(file + ": entry " + entry.name() + " claims " + entry.size() + " bytes; refused");
        }
        if (entry.method() == 0) {
            if (entry.compressedSize() != entry.size()) {
                throw new ModelFormatException(file + ": stored entry " + entry.name() + " has different stored and plain sizes");
            }
            return ZipDirectory.read(channel, entry.dataOffset(), (int) entry.size()).array();
        }
        if (entry.method() != 8) {
            throw new ModelFormatException(file + ": entry " + entry.name() + " uses zip method " + entry.method() + "; only stored and deflated are read");
        }
        byte[] packed = ZipDirectory.read(channel, entry.dataOffset(), (int) entry.compressedSize()).array();
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(packed);
            byte[] out = new byte[(int) entry.size()];
            int n = 0;
            while (n < out.length && !inflater.finished()) {
                int k = inflater.inflate(out, n, out.length - n);
                if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                n += k;
            }
            if (n != out.length) {
                throw new ModelFormatException(file + ": entry " + entry.name() + " inflates to " + n + " bytes, not " + out.length);
            }
            return out;
        } catch (DataFormatException e) {
            throw new ModelFormatException(file + ": entry " + entry.name() + " is corrupt (" + e.getMessage() + ")");
        } finally {
            inflater.end();
        }
    }

    /** What the allow-listed globals do. */
    private final class Calls implements SafePickle.Calls {
        @Override
        public Object persistentLoad(Object pid) {
            if (!(pid instanceof SafePickle.Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))
                    || !(t.get(1) instanceof SafePickle.Global type) || !type.module().equals("torch") || !type.name().endsWith("Storage")
                    || !(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel) || numel < 0) {
                throw new ModelFormatException(file + ": a persistent id that is not a storage reference ('storage', type, key, location,"
                        + " numel): " + pid);
            }
            return new Storage(key, type.name(), numel);
        }

        @Override
        public Object call(SafePickle.Global g, SafePickle.Tuple args) {
            switch (g.qualified()) {
                case "collections.OrderedDict":
                    return new LinkedHashMap<>();
                case "torch._utils._rebuild_tensor_v2": {
                    if (args.size() < 4 || !(args.get(0) instanceof Storage storage) || !(args.get(1) instanceof Long offset)
                            || !(args.get(2) instanceof SafePickle.Tuple size) || !(args.get(3) instanceof SafePickle.Tuple stride)
                            || size.size() != stride.size()) {
                        throw new ModelFormatException(file + ": _rebuild_tensor_v2 with arguments it never gets: " + args);
                    }
                    int[] shape = new int[size.size()];
                    long[] strides = new long[size.size()];
                    for (int d = 0; d < shape.length; d++) {
                        if (!(size.get(d) instanceof Long n) || n < 0 || n > Integer.MAX_VALUE || !(stride.get(d) instanceof Long s)) {
                            throw new ModelFormatException(file + ": a tensor size or stride that is not a small non-negative integer: " + args);
                        }
                        shape[d] = (int) (long) n;
                        strides[d] = s;
                    }
                    return new TensorRef(storage, offset, shape, strides);
                }
                case "torch._utils._rebuild_parameter":
                    if (args.size() < 1 || !(args.get(0) instanceof TensorRef t)) {
                        throw new ModelFormatException(file + ": _rebuild_parameter of something that is not a tensor");
                    }
                    return t;
                default:
                    throw new ModelFormatException(file + ": " + g.qualified() + " is a type, not something a checkpoint calls");
            }
        }
    }

    /** Closes the file; tensors already read stay valid (mapped memory outlives its channel). */
    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return file + " " + Arrays.toString(tensors.keySet().toArray());
    }
}
