package org.solulens.io;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** NumPy {@code .npy} files (format 1.0): float32 little-endian, C order; reading also takes float64. */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    /** An array read from a file: its shape and values. */
    public record Array(int[] shape, float[] data) {}

    private Npy() {}

    /** Writes {@code data} (narrowed to float32) with {@code shape}. */
    public static void writeFloat32(Path file, int[] shape, double[] data) throws IOException {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + data.length + " values");
        }
        StringBuilder dims = new StringBuilder();
        for (int s : shape) {
            dims.append(s).append(", ");
        }
        String shapeText = shape.length == 1 ? shape[0] + "," : dims.length() == 0 ? "" : dims.substring(0, dims.length() - 2);
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shapeText + "), }";
        int unpadded = MAGIC.length + 2 + 2 + header.length() + 1;
        header = header + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        try (OutputStream raw = Files.newOutputStream(file);
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 16))) {
            out.write(MAGIC);
            out.write(1);
            out.write(0);
            out.write(header.length() & 0xff);
            out.write(header.length() >>> 8);
            out.write(header.getBytes(StandardCharsets.US_ASCII));
            ByteBuffer buf = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : data) {
                if (!buf.hasRemaining()) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
                buf.putFloat((float) v);
            }
            out.write(buf.array(), 0, buf.position());
        }
    }

    /** A parsed header: dtype, shape, where the data starts, its element count. */
    private record Header(String descr, int[] shape, int dataStart, long count) {}

    private static Header header(byte[] bytes, Path file) throws IOException {
        if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
            throw new IOException(file + ": not a .npy file");
        }
        int major = bytes[6];
        int headerLen, start;
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            start = 10;
        } else {
            if (bytes.length < 12) {
                throw new IOException(file + ": not a .npy file (version " + major + " needs a 12-byte preamble)");
            }
            headerLen = bb.getInt(8);
            start = 12;
        }
        if (headerLen < 0 || (long) start + headerLen > bytes.length) {
            throw new IOException(file + ": .npy header length " + headerLen + " runs past the end of the file (" + bytes.length + " bytes)");
        }
        String header = new String(bytes, start, headerLen, StandardCharsets.US_ASCII);
        String descr = group(DESCR, header, file);
        if (group(ORDER, header, file).equals("True")) {
            throw new IOException(file + ": Fortran-order arrays are not supported");
        }
        String shapeText = group(SHAPE, header, file).trim();
        String[] dims = shapeText.isEmpty() ? new String[0] : shapeText.split(",");
        int[] shape = new int[dims.length];
        long n = 1;
        int rank = 0;
        for (String d : dims) {
            if (d.isBlank()) {
                continue;
            }
            try {
                shape[rank] = Integer.parseInt(d.trim());
            } catch (NumberFormatException e) {
                throw new IOException(file + ": .npy shape (" + shapeText + ") has a dimension that is not an integer: " + d.trim());
            }
            if (shape[rank] < 0) {
                throw new IOException(file + ": .npy shape (" + shapeText + ") has a negative dimension");
            }
            n *= shape[rank++];
            if (n > Integer.MAX_VALUE) {
                throw new IOException(file + ": .npy shape (" + shapeText + ") has more elements than an array can hold");
            }
        }
        shape = Arrays.copyOf(shape, rank);
        int dataStart = start + headerLen;
        int width = descr.endsWith("8") ? 8 : 4;
        if (dataStart + n * width > bytes.length) {
            throw new IOException(file + ": .npy data of shape (" + shapeText + ") needs " + n * width + " bytes after the header; the file has "
                    + (bytes.length - dataStart));
        }
        return new Header(descr, shape, dataStart, n);
    }

    /** Reads a little-endian float32 or float64 array in C order, as float32. */
    public static Array read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Header h = header(bytes, file);
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] data = new float[(int) h.count()];
        switch (h.descr()) {
            case "<f4" -> {
                for (int i = 0; i < data.length; i++) {
                    data[i] = bb.getFloat(h.dataStart() + 4 * i);
                }
            }
            case "<f8" -> {
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) bb.getDouble(h.dataStart() + 8 * i);
                }
            }
            default -> throw new IOException(file + ": dtype " + h.descr() + " not supported (expected <f4 or <f8)");
        }
        return new Array(h.shape(), data);
    }

    /**
     * Reads a 2-D integer array (int32 or int64, C order) of token ids, one row per document or window, as numpy users
     * save TransformerLens's tokenize_and_concatenate output. A float array is an error (token ids are integers).
     */
    public static int[][] readTokenRows(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Header h = header(bytes, file);
        if (!h.descr().equals("<i4") && !h.descr().equals("<i8")) {
            throw new IOException(file + ": dtype " + h.descr() + "; token ids must be integers (<i4 or <i8)");
        }
        if (h.shape().length != 2) {
            throw new IOException(file + ": shape " + Arrays.toString(h.shape()) + "; expected 2 dimensions [documents, tokens]");
        }
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        boolean wide = h.descr().equals("<i8");
        int[][] rows = new int[h.shape()[0]][h.shape()[1]];
        for (int r = 0, i = 0; r < rows.length; r++) {
            for (int c = 0; c < rows[r].length; c++, i++) {
                long v = wide ? bb.getLong(h.dataStart() + 8 * i) : bb.getInt(h.dataStart() + 4 * i);
                if (v < 0 || v > Integer.MAX_VALUE) {
                    throw new IOException(file + ": row " + r + ", column " + c + ": token id " + v + " is out of range");
                }
                rows[r][c] = (int) v;
            }
        }
        return rows;
    }

    private static String group(Pattern p, String header, Path file) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": malformed .npy header: " + header.trim());
        }
        return m.group(1);
    }
}
