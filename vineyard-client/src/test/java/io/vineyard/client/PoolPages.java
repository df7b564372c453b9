package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** How much of a daemon's pool is in memory, and its warm part's pre-fault, for memory tests. */
final class PoolPages {
    private PoolPages() {
    }

    /**
     * Bytes the daemon's pool memfd has in memory (its blocks as {@code stat -L} of the daemon's fd
     * reports them): the daemon's share of Shmem, which no other process changes.
     */
    static long memfdBytes(long pid) throws IOException, InterruptedException {
        Path fds = Path.of("/proc/" + pid + "/fd");
        try (var list = Files.list(fds)) {
            for (Path fd : list.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    continue;
                }
                if (target.startsWith("/memfd:vineyard-bulk")) {
                    Process stat = new ProcessBuilder("stat", "-L", "-c", "%b %B", fd.toString()).start();
                    String[] out = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
                    stat.waitFor();
                    return Long.parseLong(out[0]) * Long.parseLong(out[1]);
                }
            }
        }
        throw new IOException("the daemon has no pool memfd open");
    }

    static JsonNode serverStats(IpcClient client) {
        ObjectNode req = Json.object();
        req.put("type", "server_stats_request");
        return client.connection().request(req);
    }

    /**
     * Waits (at most 60 s) until the daemon's background pre-fault populated its whole warm part, and
     * returns the warm part's size.
     */
    static long awaitPrefault(IpcClient client) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            JsonNode s = serverStats(client);
            long warm = s.path("warm_bytes").asLong(-1);
            long done = s.path("prefaulted_bytes").asLong(-1);
            if (warm < 0 || done < 0) {
                throw new AssertionError("server_stats reports no warm_bytes/prefaulted_bytes: " + s);
            }
            if (done == warm) {
                return warm;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the warm part is not pre-faulted after 60 s: " + done + " of " + warm);
            }
            Thread.sleep(10); // polling a condition, bounded by the deadline
        }
    }
}
