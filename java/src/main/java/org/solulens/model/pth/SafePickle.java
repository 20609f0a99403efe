package org.solulens.model.pth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.solulens.model.ModelFormatException;

/**
 * A pickle reader for PyTorch checkpoints that runs nothing: the opcodes {@code torch.save} writes (protocols 2–4), and
 * globals only from an allow-list, as PyTorch's own {@code weights_only=True} loader does. Any other global (os.system,
 * builtins.eval, subprocess.Popen, ...) is refused with its name the moment the pickle names it, before anything is
 * called or built.
 *
 * <p>Why not a general unpickler such as Pyrolite: it resolves every global it meets (for unknown ones it builds
 * placeholder objects), so refusing them would mean patching its dispatch; and it reads nested data recursively. This
 * reader is small, iterative (deep nesting cannot overflow the stack), keeps references rather than copies (a memo
 * fetched a million times costs nothing), and bounds the memo and the stack, so a pickle bomb fails quickly with a
 * clear error.
 *
 * <p>What comes out: {@code dict}s and {@code OrderedDict}s as {@link LinkedHashMap}, lists as {@link ArrayList},
 * tuples as {@link Tuple}, ints as {@link Long}, floats as {@link Double}, strings, booleans, null, bytes as
 * {@code byte[]}, and the calls the allow-list permits as what {@link Calls} makes of them.
 */
public final class SafePickle {
    /** The globals a weights-only checkpoint may name. */
    static final Set<String> ALLOWED = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter",
            "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
            "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
            "torch.BoolStorage");

    /** Memo entries at most: far more than any checkpoint needs (two or three per tensor), far fewer than a bomb wants. */
    static final int MAX_MEMO = 1_000_000;
    /** Stack depth (values and marks) at most. */
    static final int MAX_STACK = 100_000;

    /** A Python tuple. */
    public record Tuple(List<Object> items) {
        public Object get(int i) {
            return items.get(i);
        }

        public int size() {
            return items.size();
        }
    }

    /** A global the allow-list permits, as data (it is only ever called through {@link Calls}). */
    public record Global(String module, String name) {
        public String qualified() {
            return module + "." + name;
        }
    }

    /** What the allowed calls and persistent ids become. */
    public interface Calls {
        /** {@code pid} from BINPERSID (PyTorch: a storage reference tuple). */
        Object persistentLoad(Object pid);

        /** An allowed global called with {@code args} (REDUCE). */
        Object call(Global callable, Tuple args);
    }

    private static final Object MARK = new Object();

    private final ByteBuffer in;
    private final String source;
    private final Calls calls;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private SafePickle(byte[] data, String source, Calls calls) {
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
        this.calls = calls;
    }

    /** Reads one pickle; {@code source} names it in errors ("model_final.pth: data.pkl"). */
    public static Object load(byte[] data, String source, Calls calls) {
        try {
            return new SafePickle(data, source, calls).run();
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new ModelFormatException(source + ": the pickle ends in the middle of an instruction (truncated or corrupt)");
        }
    }

    private ModelFormatException error(String what) {
        return new ModelFormatException(source + ": " + what + " (at byte " + in.position() + ")");
    }

    private Object run() {
        while (true) {
            if (!in.hasRemaining()) {
                throw error("the pickle ends without its STOP instruction (truncated?)");
            }
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int protocol = in.get() & 0xff;
                    if (protocol > 5) {
                        throw error("pickle protocol " + protocol + " is newer than any PyTorch writes");
                    }
                }
                case 0x95 -> in.getLong(); // FRAME: a length hint
                case '.' -> { // STOP
                    if (stack.size() != 1) {
                        throw error("the pickle stops with " + stack.size() + " values on its stack, not 1");
                    }
                    return stack.get(0);
                }
                case '(' -> push(MARK);
                case '}' -> push(new LinkedHashMap<>());
                case ']' -> push(new ArrayList<>());
                case ')' -> push(new Tuple(List.of()));
                case 'd' -> push(dictOf(popMark()));
                case 'l' -> push(new ArrayList<>(popMark()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85 -> push(new Tuple(java.util.Collections.singletonList(unwrap(pop()))));
                case 0x86 -> {
                    Object b = pop(), a = pop();
                    push(new Tuple(java.util.Arrays.asList(unwrap(a), unwrap(b))));
                }
                case 0x87 -> {
                    Object c = pop(), b = pop(), a = pop();
                    push(new Tuple(java.util.Arrays.asList(unwrap(a), unwrap(b), unwrap(c))));
                }
                case 'q' -> memoPut(in.get() & 0xff);
                case 'r' -> memoPut(in.getInt() & 0xffffffffL);
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'h' -> push(memoGet(in.get() & 0xff));
                case 'j' -> push(memoGet(in.getInt() & 0xffffffffL));
                case 'X' -> push(text(in.getInt() & 0xffffffffL));
                case 0x8c -> push(text(in.get() & 0xff));
                case 0x8d -> push(text(in.getLong()));
                case 'B' -> push(bytes(in.getInt() & 0xffffffffL));
                case 'C' -> push(bytes(in.get() & 0xff));
                case 'J' -> push((long) in.getInt());
                case 'K' -> push((long) (in.get() & 0xff));
                case 'M' -> push((long) (in.getShort() & 0xffff));
                case 0x8a -> push(long1(in.get() & 0xff));
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong())));   // BINFLOAT: big-endian
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                case 'c' -> push(global(line(), line()));
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two strings");
                    }
                    push(global(m, n));
                }
                case 'Q' -> push(calls.persistentLoad(unwrap(pop())));
                case 'R' -> { // REDUCE
                    Object args = pop(), callable = pop();
                    if (!(callable instanceof Global g)) {
                        throw error("REDUCE calls " + describe(callable) + ", which is not a global");
                    }
                    if (!(args instanceof Tuple t)) {
                        throw error("REDUCE of " + g.qualified() + " without an argument tuple");
                    }
                    push(calls.call(g, t));
                }
                case 'b' -> { // BUILD: only an OrderedDict's state (PyTorch's _metadata), which is dropped
                    Object state = pop();
                    Object target = peek();
                    if (!(target instanceof Map) || !(state instanceof Map || state instanceof Tuple || state == NONE)) {
                        throw error("BUILD on " + describe(target) + " is not something a weights-only checkpoint does");
                    }
                }
                case 's' -> {
                    Object value = pop(), key = pop();
                    map(peek()).put(unwrap(key), unwrap(value));
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    Map<Object, Object> m = map(peek());
                    for (int i = 0; i + 1 < items.size(); i += 2) {
                        m.put(unwrap(items.get(i)), unwrap(items.get(i + 1)));
                    }
                }
                case 'a' -> {
                    Object value = pop();
                    list(peek()).add(unwrap(value));
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    List<Object> l = list(peek());
                    for (Object o : items) {
                        l.add(unwrap(o));
                    }
                }
                default -> throw error(String.format("pickle opcode 0x%02x ('%c') is not one a weights-only checkpoint uses", op,
                        op >= 32 && op < 127 ? (char) op : '?'));
            }
        }
    }

    /** Python's None on the stack (null there would be ambiguous with "nothing"). */
    private static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private static Object unwrap(Object o) {
        return o == NONE ? null : o;
    }

    private void push(Object o) {
        if (stack.size() >= MAX_STACK) {
            throw error("the pickle nests deeper than " + MAX_STACK + " values (a pickle bomb?)");
        }
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty()) {
            throw error("the pickle pops from an empty stack");
        }
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) {
            throw error("the pickle uses a MARK as a value");
        }
        return o;
    }

    private Object peek() {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw error("the pickle needs a value on its stack and has none");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        int i = stack.size() - 1;
        while (i >= 0 && stack.get(i) != MARK) {
            i--;
        }
        if (i < 0) {
            throw error("the pickle closes a MARK it never opened");
        }
        List<Object> items = new ArrayList<>();
        for (Object o : stack.subList(i + 1, stack.size())) {
            items.add(unwrap(o));
        }
        stack.subList(i, stack.size()).clear();
        return items;
    }

    private void memoPut(long index) {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw error("the pickle's memo grows past " + MAX_MEMO + " entries (a pickle bomb?)");
        }
        memo.put(index, peek());
    }

    private Object memoGet(long index) {
        Object o = memo.get(index);
        if (o == null) {
            throw error("the pickle fetches memo entry " + index + ", which it never stored");
        }
        return o;
    }

    private String text(long length) {
        return new String(bytes(length), StandardCharsets.UTF_8);
    }

    private byte[] bytes(long length) {
        if (length < 0 || length > in.remaining()) {
            throw error("a string of " + length + " bytes runs past the end of the pickle");
        }
        byte[] b = new byte[(int) length];
        in.get(b);
        return b;
    }

    private Object long1(int length) {
        if (length > 8) {
            throw error("an integer of " + length + " bytes (weights-only checkpoints use at most 8)");
        }
        long v = 0;
        for (int i = 0; i < length; i++) {
            v |= (in.get() & 0xffL) << (8 * i);
        }
        if (length > 0 && length < 8 && (v & (1L << (8 * length - 1))) != 0) {
            v |= -1L << (8 * length);   // sign-extend
        }
        return v;
    }

    private String line() {
        int start = in.position();
        while (in.hasRemaining() && in.get() != '\n') {
            if (in.position() - start > 256) {
                throw error("a GLOBAL name longer than 256 bytes");
            }
        }
        return new String(in.array(), start, in.position() - start - 1, StandardCharsets.UTF_8);
    }

    private Global global(String module, String name) {
        String qualified = module + "." + name;
        if (!ALLOWED.contains(qualified)) {
            throw new ModelFormatException(source + ": the pickle names the global '" + qualified
                    + "', which a weights-only checkpoint never needs; refused before anything was run or built (allowed: "
                    + new java.util.TreeSet<>(ALLOWED) + ")");
        }
        return new Global(module, name);
    }

    private Map<Object, Object> dictOf(List<Object> items) {
        Map<Object, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < items.size(); i += 2) {
            m.put(items.get(i), items.get(i + 1));
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(Object o) {
        if (!(o instanceof Map)) {
            throw error("SETITEM(S) on " + describe(o) + ", not a dict");
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (!(o instanceof List)) {
            throw error("APPEND(S) on " + describe(o) + ", not a list");
        }
        return (List<Object>) o;
    }

    static String describe(Object o) {
        if (o == null || o == NONE) {
            return "None";
        }
        if (o instanceof Global g) {
            return g.qualified();
        }
        return "a " + o.getClass().getSimpleName();
    }
}
