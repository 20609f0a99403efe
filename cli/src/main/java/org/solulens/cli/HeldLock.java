package org.solulens.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An operating-system lock on a file, held by this process: the system releases it when the process ends, however it
 * ends (SIGKILL, the OOM killer), so a dead run never blocks the next. While held, the file holds the owner's process
 * id, for the message a second writer gets.
 *
 * <p>The file itself stays when the lock is released (empty): deleting it would let a run that opened it just before
 * lock a file no longer under that name while a third run locks a new one. And nothing else may open the file while
 * the lock is held: POSIX releases a process's locks on a file when any descriptor of it in that process is closed,
 * which is also why a second writer within this JVM is refused from {@link #HELD} without touching the file.
 */
final class HeldLock {
    /** Lock files held by this JVM. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private HeldLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock on {@code file}, created if missing.
     *
     * @param what names the folder it guards in errors ("--out DIR")
     * @throws IllegalArgumentException when a live process holds it, or the file cannot be written
     */
    static HeldLock take(Path file, String what) {
        Path key = file.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            throw busy(what, "process " + ProcessHandle.current().pid(), file);
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw busy(what, owner(channel), file);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            return new HeldLock(key, channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            HELD.remove(key);
            throw new IllegalArgumentException(what + ": cannot write its lock file " + file + " (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            closeQuietly(channel);
            HELD.remove(key);
            throw e;
        }
    }

    /** Empties the file and lets the lock go; a second call does nothing. */
    synchronized void release() {
        if (!channel.isOpen()) {
            return;
        }
        try {
            channel.truncate(0);
            lock.release();
        } catch (IOException e) {
            // closing the channel releases the lock too
        }
        closeQuietly(channel);
        HELD.remove(file);
    }

    private static IllegalArgumentException busy(String what, String owner, Path file) {
        return new IllegalArgumentException(what + " is being written by another solulens run (" + owner + ", lock " + file
                + "); wait for it to end, or choose another folder");
    }

    /** "process N" from the holder's file, read through our own descriptor (we hold no lock to lose). */
    private static String owner(FileChannel channel) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            channel.read(b, 0);
            String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
            return pid.matches("\\d+") ? "process " + pid : "another process";
        } catch (IOException e) {
            return "another process";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }
}
