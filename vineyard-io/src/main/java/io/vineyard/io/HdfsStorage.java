package io.vineyard.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.security.AccessControlException;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * HDFS through Hadoop's own Java client ({@code hadoop-client-api}/{@code -runtime} 3.5, which runs on
 * JDK 25). One {@link FileSystem} instance per operation (not Hadoop's shared cache, so that each read's
 * {@code storage_options} apply), closed with this object. Connection retries are cut from Hadoop's ten
 * to one, so an unreachable namenode is reported in about a second; {@code storage_options} may set any
 * Hadoop key (a name with a dot, as pyarrow's {@code extra_conf}) and {@code user}.
 */
final class HdfsStorage implements Storage {
    private final String uri;
    private final URI namenode;
    private final FileSystem fs;

    /**
     * @param uri     the hdfs:// URI as given (for messages)
     * @param storage storage_options: {@code user}, {@code replication}, Hadoop keys
     */
    HdfsStorage(String uri, Map<String, String> storage) {
        this.uri = uri;
        URI u = URI.create(uri.replace(" ", "%20"));
        if (u.getAuthority() == null) {
            throw new IoException.Unsupported(uri, "an hdfs URI names its namenode: hdfs://HOST:PORT/path");
        }
        this.namenode = URI.create("hdfs://" + u.getAuthority());
        Configuration conf = new Configuration();
        conf.setInt("ipc.client.connect.max.retries", 1);
        conf.setInt("ipc.client.connect.max.retries.on.timeouts", 1);
        conf.setInt("ipc.client.connect.retry.interval", 100);
        conf.setInt("ipc.client.connect.timeout", 5000);
        conf.setBoolean("dfs.client.retry.policy.enabled", false);
        // a file's close polls the namenode until its last block is reported: from 400 ms, not 50 ms, a
        // serialized tree of many small blobs would wait most of its time
        conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 20);
        storage.forEach((k, v) -> {
            if (k.contains(".")) {
                conf.set(k, v);
            }
        });
        if (storage.get("replication") != null) {
            conf.set("dfs.replication", storage.get("replication"));
        }
        String user = storage.getOrDefault("user", storage.get("hdfs_user"));
        try {
            this.fs = user == null ? FileSystem.newInstance(namenode, conf) : FileSystem.newInstance(namenode, conf, user);
        } catch (IOException e) {
            throw failure(u.getPath(), e);
        } catch (IllegalArgumentException e) {
            // Hadoop resolves the namenode's host at once, and reports an unknown one this way
            throw failure(u.getPath(), new IOException(e.getMessage(), e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IoException(uri, null, "interrupted while connecting", e);
        }
    }

    /** The path part of an hdfs:// URI ({@code /} when empty). */
    static String pathOf(String uri) {
        String p = URI.create(uri.replace(" ", "%20")).getPath();
        return p == null || p.isEmpty() ? "/" : p;
    }

    private static org.apache.hadoop.fs.Path p(String path) {
        return new org.apache.hadoop.fs.Path(path);
    }

    @Override
    public boolean isFile(String path) {
        try {
            return fs.getFileStatus(p(path)).isFile();
        } catch (FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    @Override
    public boolean isDirectory(String path) {
        try {
            return fs.getFileStatus(p(path)).isDirectory();
        } catch (FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    @Override
    public List<String> children(String dir) {
        try {
            return Arrays.stream(fs.listStatus(p(dir))).map(s -> s.getPath().getName()).sorted().toList();
        } catch (IOException e) {
            throw failure(dir, e);
        }
    }

    /** The files matching a glob ({@code /data/part-*.csv}), sorted; none when nothing matches. */
    List<String> glob(String pattern) {
        try {
            FileStatus[] found = fs.globStatus(p(pattern));
            return found == null ? List.of() : Arrays.stream(found).filter(FileStatus::isFile)
                    .map(s -> s.getPath().toUri().getPath()).sorted().toList();
        } catch (IOException e) {
            throw failure(pattern, e);
        }
    }

    @Override
    public long size(String path) {
        try {
            return fs.getFileStatus(p(path)).getLen();
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    @Override
    public InputStream open(String path) {
        try {
            return fs.open(p(path));
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    @Override
    public ReadableByteChannel channel(String path) {
        return Channels.newChannel(open(path));
    }

    @Override
    public OutputStream create(String path) {
        try {
            return fs.create(p(path), true);
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    @Override
    public void mkdirs(String path) {
        try {
            fs.mkdirs(p(path));
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    @Override
    public void rename(String from, String to) {
        try {
            fs.mkdirs(p(Storage.parent(to)));
            FileStatus target = fs.exists(p(to)) ? fs.getFileStatus(p(to)) : null;
            if (target != null && (target.isFile() || fs.listStatus(p(to)).length == 0)) {
                fs.delete(p(to), false);
            }
            if (!fs.rename(p(from), p(to))) {
                throw new IoException(uri, null, "HDFS refused to rename " + from + " to " + to, null);
            }
        } catch (IOException e) {
            throw failure(to, e);
        }
    }

    @Override
    public void delete(String path) {
        try {
            fs.delete(p(path), true);
        } catch (IOException ignored) {
            // best effort: a leftover hidden temporary is harmless
        }
    }

    @Override
    public IoException failure(String path, IOException e) {
        String where = namenode + path;
        if (e instanceof FileNotFoundException) {
            return new IoException.NotFound(where, "no such file or directory", e);
        }
        if (e instanceof AccessControlException) {
            return new IoException.AccessDenied(where, "HDFS refused: " + firstLine(e), e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof java.net.SocketTimeoutException) {
                return new IoException.Unreachable(where, "the namenode " + namenode.getAuthority() + " is not reachable: " + t, e);
            }
        }
        return new IoException(where, null, firstLine(e), e);
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public void close() {
        try {
            fs.close();
        } catch (IOException ignored) {
            // the client's sockets go with it either way
        }
    }

    @Override
    public String toString() {
        return uri;
    }
}
