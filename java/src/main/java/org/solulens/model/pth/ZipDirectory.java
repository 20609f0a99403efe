package org.solulens.model.pth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.solulens.model.ModelFormatException;

/**
 * The entries of a zip file and where each one's bytes lie, read from its central directory (ZIP64 included).
 * PyTorch writes its checkpoints' entries uncompressed and aligned, so a tensor's storage can be memory-mapped where it
 * lies; {@link java.util.zip.ZipFile} cannot say where that is, hence this small reader.
 */
final class ZipDirectory {
    /** One entry: {@code method} 0 (stored) or 8 (deflated); {@code dataOffset}: its first byte in the file. */
    record Entry(String name, int method, long compressedSize, long size, long dataOffset) {}

    private static final int EOCD = 0x06054b50, EOCD64 = 0x06064b50, LOCATOR64 = 0x07064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

    private ZipDirectory() {}

    static Map<String, Entry> read(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        int tail = (int) Math.min(size, 22 + 65535 + 20);
        ByteBuffer end = read(ch, size - tail, tail);
        int at = -1;
        for (int i = tail - 22; i >= 0; i--) {
            if (end.getInt(i) == EOCD) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            throw new ModelFormatException(file + ": not a complete zip file (no end-of-central-directory record): truncated, or not a"
                    + " PyTorch checkpoint");
        }
        long entries = end.getShort(at + 10) & 0xffff;
        long dirSize = end.getInt(at + 12) & 0xffffffffL, dirOffset = end.getInt(at + 16) & 0xffffffffL;
        if (entries == 0xffff || dirSize == 0xffffffffL || dirOffset == 0xffffffffL) {
            if (at < 20 || end.getInt(at - 20) != LOCATOR64) {
                throw new ModelFormatException(file + ": a ZIP64 file without its ZIP64 locator");
            }
            long eocd64 = end.getLong(at - 20 + 8);
            ByteBuffer z = read(ch, check(file, eocd64, 56, size), 56);
            if (z.getInt(0) != EOCD64) {
                throw new ModelFormatException(file + ": the ZIP64 end record is not where its locator says");
            }
            entries = z.getLong(32);
            dirSize = z.getLong(40);
            dirOffset = z.getLong(48);
        }
        if (entries > 1_000_000 || dirSize > Integer.MAX_VALUE) {
            throw new ModelFormatException(file + ": a zip directory of " + entries + " entries / " + dirSize + " bytes is not a checkpoint's");
        }
        ByteBuffer dir = read(ch, check(file, dirOffset, dirSize, size), (int) dirSize);
        Map<String, Entry> out = new LinkedHashMap<>();
        int p = 0;
        for (long e = 0; e < entries; e++) {
            if (p + 46 > dir.limit() || dir.getInt(p) != CENTRAL) {
                throw new ModelFormatException(file + ": zip directory entry " + e + " is corrupt");
            }
            int method = dir.getShort(p + 10) & 0xffff;
            long compressed = dir.getInt(p + 20) & 0xffffffffL, plain = dir.getInt(p + 24) & 0xffffffffL;
            int nameLength = dir.getShort(p + 28) & 0xffff, extraLength = dir.getShort(p + 30) & 0xffff, commentLength = dir.getShort(p + 32) & 0xffff;
            long local = dir.getInt(p + 42) & 0xffffffffL;
            if (p + 46 + nameLength + extraLength > dir.limit()) {
                throw new ModelFormatException(file + ": zip directory entry " + e + " runs past the directory");
            }
            byte[] nameBytes = new byte[nameLength];
            dir.get(p + 46, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            // ZIP64 extra field: the 8-byte values of whichever fields above are 0xffffffff, in this order
            for (int x = p + 46 + nameLength; x + 4 <= p + 46 + nameLength + extraLength; ) {
                int id = dir.getShort(x) & 0xffff, length = dir.getShort(x + 2) & 0xffff;
                if (id == 0x0001) {
                    int v = x + 4;
                    if (plain == 0xffffffffL) {
                        plain = dir.getLong(v);
                        v += 8;
                    }
                    if (compressed == 0xffffffffL) {
                        compressed = dir.getLong(v);
                        v += 8;
                    }
                    if (local == 0xffffffffL) {
                        local = dir.getLong(v);
                    }
                }
                x += 4 + length;
            }
            ByteBuffer header = read(ch, check(file, local, 30, size), 30);
            if (header.getInt(0) != LOCAL) {
                throw new ModelFormatException(file + ": entry " + name + " has no local header where the directory says");
            }
            long data = local + 30 + (header.getShort(26) & 0xffff) + (header.getShort(28) & 0xffff);
            check(file, data, compressed, size);
            out.put(name, new Entry(name, method, compressed, plain, data));
            p += 46 + nameLength + extraLength + commentLength;
        }
        return out;
    }

    /** {@code offset}, after checking that {@code length} bytes from it lie inside the file. */
    private static long check(Path file, long offset, long length, long fileSize) {
        if (offset < 0 || length < 0 || offset > fileSize || length > fileSize - offset) {
            throw new ModelFormatException(file + ": the zip says " + length + " bytes lie at offset " + offset + ", past the end of the "
                    + fileSize + "-byte file (truncated?)");
        }
        return offset;
    }

    static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) {
                throw new java.io.EOFException("end of file at " + (position + b.position()));
            }
        }
        return b.flip();
    }
}
