package io.vineyard.server.store;

import io.vineyard.common.ObjectIds;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;

/**
 * The files of spilled blobs under {@code --spill_path}, one file per spill.
 *
 * <pre>
 *   &lt;spill_path&gt;/o&lt;16 hex id&gt;.&lt;n&gt;.spill        n: the blob's spill number (a new name every spill)
 *   +--------------+-----------+-------------+--------------------+
 *   | magic (8)    | id (8)    | size (8)    | the blob's bytes   |    little-endian
 *   | "VYSPILL1"   | blob id   | data bytes  | (size bytes)       |
 *   +--------------+-----------+-------------+--------------------+
 *   &lt;spill_path&gt;/.vineyardd.lock   held (flock) by the daemon that uses the directory
 * </pre>
 *
 * <p>Restart rule: spilled payloads do not survive the daemon. With the local metadata backend the
 * objects that own them are gone after a restart, so a payload file could never be reached again;
 * the daemon therefore deletes its files on shutdown, and at start deletes (and logs) the files a
 * previous daemon left behind (kill -9, power loss). Only files named as above are touched; the lock
 * keeps two daemons from sharing one directory and deleting each other's files.
 *
 * <p>Thread-safe: methods touch only the file named by their arguments; they never run under the
 * store lock.
 */
public final class SpillDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SpillDirectory.class);
    /** "VYSPILL1" read as a little-endian long. */
    static final long MAGIC = 0x314c4c4950535956L;
    static final int HEADER_BYTES = 24;
    private static final Pattern SPILL_FILE = Pattern.compile("o[0-9a-f]{16}\\.[0-9]+\\.spill");
    private static final String LOCK_FILE = ".vineyardd.lock";
    /** Largest single write or read: a ByteBuffer view holds at most 2^31 - 1 bytes. */
    private static final long CHUNK_BYTES = 1L << 30;

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private SpillDirectory(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Opens (creating it if needed) and locks the directory, and deletes the spill files a previous
     * daemon left there.
     *
     * @throws IllegalArgumentException when the directory cannot be made, written or locked
     */
    public static SpillDirectory open(Path dir) {
        FileChannel ch = null;
        try {
            Files.createDirectories(dir);
            ch = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException inThisProcess) {
                lock = null;
            }
            if (lock == null) {
                throw new IllegalArgumentException("--spill_path " + dir + " is in use by another vineyardd"
                        + " (it holds " + dir.resolve(LOCK_FILE) + "); give each daemon its own directory");
            }
            SpillDirectory d = new SpillDirectory(dir, ch, lock);
            d.deleteLeftovers();
            return d;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new IllegalArgumentException("--spill_path " + dir + " is not a writable directory: " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    public Path path() {
        return dir;
    }

    private void deleteLeftovers() throws IOException {
        int files = 0;
        long bytes = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (SPILL_FILE.matcher(p.getFileName().toString()).matches()) {
                    bytes += Math.max(0, Files.size(p) - HEADER_BYTES);
                    Files.delete(p);
                    files++;
                }
            }
        }
        if (files > 0) {
            LOG.warn("--spill_path {}: deleted {} spilled blob(s) ({} bytes) left by a previous vineyardd; their"
                    + " objects did not survive that daemon, so they are gone", dir, files, bytes);
        }
    }

    /** The file of spill number {@code seq} of blob {@code id}. */
    Path file(long id, int seq) {
        return dir.resolve(ObjectIds.toText(id) + "." + seq + ".spill");
    }

    /**
     * Writes {@code bytes} as the file of spill {@code seq} of blob {@code id}. On failure (a full disk)
     * the partial file is removed and nothing is left behind.
     */
    public void write(long id, int seq, MemorySegment bytes) throws IOException {
        Path f = file(id, seq);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putLong(MAGIC).putLong(id).putLong(bytes.byteSize()).flip();
            writeFully(ch, header);
            for (long at = 0; at < bytes.byteSize(); at += CHUNK_BYTES) {
                writeFully(ch, bytes.asSlice(at, Math.min(CHUNK_BYTES, bytes.byteSize() - at)).asByteBuffer());
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(f);
            throw e;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads the file of spill {@code seq} of blob {@code id} into {@code into} (exactly its size). */
    public void read(long id, int seq, MemorySegment into) throws IOException {
        Path f = file(id, seq);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, header, f);
            header.flip();
            long magic = header.getLong();
            long fileId = header.getLong();
            long size = header.getLong();
            if (magic != MAGIC || fileId != id || size != into.byteSize()) {
                throw new IOException(f + " is not the spill file of blob " + ObjectIds.toText(id) + " of "
                        + into.byteSize() + " bytes (header: id " + ObjectIds.toText(fileId) + ", " + size + " bytes)");
            }
            for (long at = 0; at < size; at += CHUNK_BYTES) {
                readFully(ch, into.asSlice(at, Math.min(CHUNK_BYTES, size - at)).asByteBuffer(), f);
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, Path f) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException(f + " ends early: " + b.remaining() + " bytes missing");
            }
        }
    }

    /** Deletes the file of spill {@code seq} of blob {@code id}, if it is there. */
    public void delete(long id, int seq) {
        try {
            Files.deleteIfExists(file(id, seq));
        } catch (IOException e) {
            LOG.error("cannot delete the spill file {}", file(id, seq), e);
        }
    }

    /** Deletes every spill file (daemon shutdown) and releases the directory. */
    @Override
    public void close() {
        try {
            deleteLeftoversQuietly();
            Files.deleteIfExists(dir.resolve(LOCK_FILE)); // while locked: no new daemon has it open yet
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.error("--spill_path {}: cannot release the directory", dir, e);
        }
    }

    private void deleteLeftoversQuietly() {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (SPILL_FILE.matcher(p.getFileName().toString()).matches()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            LOG.error("--spill_path {}: cannot delete the spill files at shutdown", dir, e);
        }
    }
}
