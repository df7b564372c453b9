package io.vineyard.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * The byte-level file operations that serialize, deserialize, {@code read_bytes} and the HDFS staging of
 * reads and writes need, over a local disk ({@link Local}) or HDFS ({@link HdfsStorage}). Paths are
 * strings in the storage's own syntax (absolute, {@code /}-separated). Every failure is an
 * {@link IoException} naming the path.
 */
interface Storage extends AutoCloseable {
    /** Whether {@code path} is a file. */
    boolean isFile(String path);

    /** Whether {@code path} is a directory. */
    boolean isDirectory(String path);

    /** The names of a directory's entries, sorted. */
    List<String> children(String dir);

    /** A file's length in bytes. */
    long size(String path);

    /** Opens a file for reading. */
    InputStream open(String path);

    /** Opens a file for reading as a channel (read straight into a buffer: a ByteStream chunk). */
    ReadableByteChannel channel(String path);

    /** Creates (or truncates) a file, and its parent directories. */
    OutputStream create(String path);

    /** Creates a directory and its parents. */
    void mkdirs(String path);

    /** Moves {@code from} to {@code to}, replacing a file {@code to}; a directory {@code to} must not exist. */
    void rename(String from, String to);

    /** Deletes a file or a directory tree; best effort, a missing path is no error. */
    void delete(String path);

    /** Whether {@link #rename} is one atomic step (not on S3, where it is a copy of every key). */
    default boolean atomicRename() {
        return true;
    }

    /**
     * A hint that the tree under {@code dir} is about to be walked and read, not written: a storage
     * whose listings are slow (S3) lists it once and answers {@link #isFile}/{@link #children} from that.
     */
    default void walkAhead(String dir) {
    }

    /** Copies a local file to {@code path}. */
    default void upload(Path local, String path) {
        try (OutputStream out = create(path)) {
            Files.copy(local, out);
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    /** Copies {@code path} to a local file. */
    default void download(String path, Path local) {
        try (InputStream in = open(path)) {
            Files.copy(in, local, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    /** The typed error for an I/O failure on {@code path}. */
    IoException failure(String path, IOException e);

    /** {@code dir}/{@code name}. */
    static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    /** The parent of {@code path} ({@code /} for a top-level entry). */
    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    /** The last name of {@code path}. */
    static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** A hidden sibling of {@code path} for a write that is renamed over it once complete. */
    static String hiddenSibling(String path) {
        return join(parent(path), "." + name(path) + ".vineyard-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    @Override
    void close();

    /** The local disk, through {@code java.nio.file}. */
    final class Local implements Storage {
        private final String uri;

        Local(String uri) {
            this.uri = uri;
        }

        @Override
        public boolean isFile(String path) {
            return Files.isRegularFile(Path.of(path));
        }

        @Override
        public boolean isDirectory(String path) {
            return Files.isDirectory(Path.of(path));
        }

        @Override
        public List<String> children(String dir) {
            try (Stream<Path> s = Files.list(Path.of(dir))) {
                return s.map(p -> p.getFileName().toString()).sorted().toList();
            } catch (IOException e) {
                throw failure(dir, e);
            }
        }

        @Override
        public long size(String path) {
            try {
                return Files.size(Path.of(path));
            } catch (IOException e) {
                throw failure(path, e);
            }
        }

        @Override
        public InputStream open(String path) {
            try {
                return Files.newInputStream(Path.of(path));
            } catch (IOException e) {
                throw failure(path, e);
            }
        }

        @Override
        public ReadableByteChannel channel(String path) {
            try {
                return FileChannel.open(Path.of(path), StandardOpenOption.READ);
            } catch (IOException e) {
                throw failure(path, e);
            }
        }

        @Override
        public OutputStream create(String path) {
            try {
                Files.createDirectories(Path.of(path).getParent());
                return Files.newOutputStream(Path.of(path));
            } catch (IOException e) {
                throw failure(path, e);
            }
        }

        @Override
        public void mkdirs(String path) {
            try {
                Files.createDirectories(Path.of(path));
            } catch (IOException e) {
                throw failure(path, e);
            }
        }

        @Override
        public void rename(String from, String to) {
            try {
                Files.createDirectories(Path.of(to).getParent());
                if (Files.isDirectory(Path.of(to))) {
                    Files.delete(Path.of(to));      // an empty directory only: a full one throws
                }
                Files.move(Path.of(from), Path.of(to), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw failure(to, e);
            }
        }

        @Override
        public void delete(String path) {
            TableWriter.deleteTree(Path.of(path));
        }

        @Override
        public IoException failure(String path, IOException e) {
            if (e instanceof java.nio.file.NoSuchFileException || e instanceof java.io.FileNotFoundException) {
                return new IoException.NotFound(uri, "no such file: " + path, e);
            }
            if (e instanceof java.nio.file.AccessDeniedException) {
                return new IoException.AccessDenied(uri, "permission denied: " + path, e);
            }
            return new IoException(uri, null, path + ": " + e, e);
        }

        @Override
        public void close() {
        }
    }
}
