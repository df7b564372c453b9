package io.vineyard.client.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.VineyardObject;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.vineyard.client.cluster.Cluster.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * docs/cluster.md as written: its sh session starts etcd and two daemons (free ports and a scratch
 * directory instead of the fixed ones, the test classpath's daemon instead of bin/vineyardd), then
 * its Java example runs against them.
 */
class ClusterDocExamplesTest {
    private static final Path DOC = DocSnippets.repo().resolve("docs/cluster.md");

    @BeforeAll
    static void etcdInstalled() {
        assumeTrue(EtcdProcess.available(), "etcd-server is not installed (bin/test installs it)");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String shBlock() throws IOException {
        String text = Files.readString(DOC);
        int start = text.indexOf("```sh\n") + "```sh\n".length();
        return text.substring(start, text.indexOf("```", start));
    }

    @Test
    void everyJavaBlockIsRunHere() throws IOException {
        DocSnippets.assertEveryBlockShown(DocSnippets.javaBlocks(DOC), DOC,
                DocSnippets.repo().resolve("vineyard-client/src/test/java/io/vineyard/client/cluster/ClusterDocExamplesTest.java"));
    }

    @Test
    void theShSessionStartsAClusterAndTheJavaExampleRunsOnIt() throws Exception {
        Path work = Files.createTempDirectory(Path.of("/dev/shm"), "vineyard-doc-");
        Path launcher = Files.createDirectories(work.resolve("bin")).resolve("vineyardd");
        Files.writeString(launcher, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "' --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx256m -cp '"
                + System.getProperty("java.class.path") + "' io.vineyard.server.Vineyardd --size=256Mi \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        String script = shBlock().replace("2379", Integer.toString(freePort())).replace("2380", Integer.toString(freePort()))
                .replace("9600", Integer.toString(freePort())).replace("9601", Integer.toString(freePort()))
                .replace("/tmp/", work + "/")
                + "jobs -p > " + work.resolve("pids") + "\n";
        // the session's output goes to a file: a pipe would stay open as long as a background job holds it
        Path session = work.resolve("session.out");
        Process p = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script).directory(work.toFile())
                .redirectErrorStream(true).redirectOutput(session.toFile()).start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), () -> read(session));
        assertEquals(0, p.exitValue(), () -> read(session));
        List<Long> pids = new ArrayList<>();
        for (String pid : Files.readString(work.resolve("pids")).trim().split("\\s+")) {
            pids.add(Long.parseLong(pid));
        }
        assertEquals(3, pids.size(), "etcd and two daemons run in the background");
        try {
            for (String log : List.of("vineyard-a.log", "vineyard-b.log")) {
                assertTrue(eventually(Duration.ofSeconds(60), () -> {
                    try {
                        return Files.readString(work.resolve(log)).contains("vineyardd ready");
                    } catch (IOException e) {
                        return false;
                    }
                }), log + " never said ready");
            }
            String SOCKET_A = work.resolve("vineyard-a.sock").toString();
            String SOCKET_B = work.resolve("vineyard-b.sock").toString();
            // ---- docs/cluster.md ----
            try (IpcClient a = IpcClient.connect(SOCKET_A);
                 IpcClient b = IpcClient.connect(SOCKET_B)) {
                ObjectId id = a.putNamed(Tensor.of(new double[] {1, 2, 3}), "weights");   // persisted: etcd has it
                ObjectId seen = b.waitName("weights", Duration.ofSeconds(5));             // the same id, on instance b
                long owner = b.getMeta(seen).instanceId();                                // a's instance id
                ObjectNode instances = b.clusterMeta();                                   // {"i0": {...}, "i1": {...}}
                try (VineyardObject local = b.fetchObject(seen);                          // migrated to b once
                     Tensor t = b.get(local.id(), Tensor.class)) {
                    double x = t.getDouble(2);                                            // 3.0
                }
            }
            // ---- end ----
            try (IpcClient a = IpcClient.connect(SOCKET_A); IpcClient b = IpcClient.connect(SOCKET_B)) {
                ObjectId id = a.getName("weights");
                ObjectId copy = b.migrate(id);
                assertTrue(!copy.equals(id) && b.getMeta(copy).instanceId() == b.instanceId(), "b holds a copy now");
                try (Tensor t = b.get(copy, Tensor.class)) {
                    assertEquals(3.0, t.getDouble(2));
                }
                assertEquals(2, b.clusterMeta().size(), b.clusterMeta().toString());
            }
        } finally {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            }
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(15, TimeUnit.SECONDS).exceptionally(e -> {
                    h.destroyForcibly();
                    return h;
                }).join());
            }
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
