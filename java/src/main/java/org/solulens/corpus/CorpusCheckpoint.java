package org.solulens.corpus;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A corpus sweep's state between runs: what it was computed from (model, settings, corpus: each a fingerprint) and
 * the statistics so far, which say how many windows are done. Written atomically (a temporary file beside it, forced
 * to disk, renamed over the old one), so a crash at any moment leaves the previous checkpoint or the new one, whole;
 * a CRC over the contents catches a damaged file.
 */
public final class CorpusCheckpoint {
    private static final int MAGIC = 0x534c434b;   // "SLCK"
    private static final int VERSION = 1;

    private CorpusCheckpoint() {}

    /** The state as bytes (cheap: O(d_mlp · k)), taken after each batch so that Ctrl-C can write the latest one. */
    static byte[] snapshot(Map<String, String> fingerprint, CorpusStats stats) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(fingerprint.size());
            for (Map.Entry<String, String> e : fingerprint.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
            stats.write(out);
            out.flush();
            CRC32 crc = new CRC32();
            crc.update(bytes.toByteArray());
            out.writeLong(crc.getValue());
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes a snapshot to {@code file} atomically. One writer at a time (the sweep's thread and the Ctrl-C hook may
     * both write; they raced on one temporary file before), each through its own temporary file.
     */
    static synchronized void write(Path file, byte[] snapshot) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(snapshot);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // what is in the way is not ours to remove
            }
            throw new IOException("could not write the checkpoint " + file + " (" + e.getMessage() + ", disk full or not writable?);"
                    + (Files.exists(file) ? " the previous one is intact" : " there is none yet"), e);
        }
    }

    /**
     * Reads a checkpoint and checks that it was made from the same model, settings and corpus: otherwise an error
     * saying which differs.
     */
    static CorpusStats read(Path file, Map<String, String> expected) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 16) {
            throw new IllegalArgumentException(file + ": not a SoluLens corpus checkpoint (too short)");
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        if (crc.getValue() != ByteBuffer.wrap(all, all.length - 8, 8).getLong()) {
            throw new IllegalArgumentException(file + ": the checkpoint is damaged (its checksum does not match); start without --resume");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(Arrays.copyOf(all, all.length - 8)));
        if (in.readInt() != MAGIC || in.readInt() != VERSION) {
            throw new IllegalArgumentException(file + ": not a SoluLens corpus checkpoint of this version");
        }
        Map<String, String> found = new LinkedHashMap<>();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            found.put(in.readUTF(), in.readUTF());
        }
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String was = found.get(e.getKey());
            if (!e.getValue().equals(was)) {
                throw new IllegalArgumentException(file + ": the checkpoint was made with another " + e.getKey() + " (" + was + "; now "
                        + e.getValue() + "); resume with the same one, or start without --resume");
            }
        }
        return CorpusStats.read(in);
    }
}
