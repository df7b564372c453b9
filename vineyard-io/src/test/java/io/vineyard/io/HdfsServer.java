package io.vineyard.io;

import io.vineyard.client.DaemonProcess;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real HDFS for the tests: Hadoop's MiniDFSCluster (a NameNode and a DataNode, hadoop-client-minicluster
 * 3.5) in a JVM of its own on loopback, its storage under a temporary directory, stopped by PID at
 * {@link #close()}. {@link #main} is the server process: once the cluster is up it writes the namenode's
 * RPC URI and, on a second line, its WebHDFS (HTTP) URI to a file, and waits until it is killed.
 * {@code bin/hdfs-minicluster} runs it for the Python tests (WebHDFS).
 */
final class HdfsServer implements AutoCloseable {
    private final Process process;
    private final String uri;

    private HdfsServer(Process process, String uri) {
        this.process = process;
        this.uri = uri;
    }

    static HdfsServer start(Path dir) throws IOException, InterruptedException {
        Path ready = dir.resolve("namenode.uri");
        Path log = dir.resolve("hdfs.log");
        Process p = new ProcessBuilder(List.of(DaemonProcess.javaBin(), "-Xmx512m",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), HdfsServer.class.getName(), dir.resolve("dfs").toString(), ready.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(ready)) {
                return new HdfsServer(p, Files.readAllLines(ready).get(0).trim());
            }
            if (p.waitFor(50, TimeUnit.MILLISECONDS)) {
                throw new IOException("the HDFS minicluster exited (" + p.exitValue() + "): " + Files.readString(log));
            }
        }
        p.destroyForcibly().waitFor();
        throw new IOException("the HDFS minicluster was not up within 120 s: " + Files.readString(log));
    }

    /** {@code hdfs://127.0.0.1:PORT} */
    String uri() {
        return uri;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The server process: {@code HdfsServer BASEDIR READYFILE} (READYFILE: the RPC URI, then the HTTP URI). */
    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        conf.set("hdfs.minidfs.basedir", args[0]);
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.setBoolean("dfs.webhdfs.enabled", true);
        conf.setInt("dfs.replication", 1);
        conf.setBoolean("dfs.permissions.enabled", true);
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).format(true).build();
        cluster.waitActive();
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown));
        String uri = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "\nhttp://127.0.0.1:"
                + cluster.getNameNode().getHttpAddress().getPort() + "\n";
        Path ready = Path.of(args[1]);
        Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
        Files.writeString(tmp, uri);
        Files.move(tmp, ready, StandardCopyOption.ATOMIC_MOVE);
        System.out.print("hdfs minicluster ready:\n" + uri);
        System.out.flush();
        Thread.currentThread().join();
    }
}
