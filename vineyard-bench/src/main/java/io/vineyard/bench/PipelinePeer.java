package io.vineyard.bench;

import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.Prefault;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One process of {@link PipelineBench}: a producer or a consumer, driven by commands on stdin, one per
 * line, each answered by one line starting with {@code ok} (times are {@link System#nanoTime()}, which is
 * CLOCK_MONOTONIC and so shared by the processes of one machine):
 * <pre>
 *   connect SOCKET [populate] the daemon to use (populate: the pool's pages mapped at connect, MAP_POPULATE)
 *   build pool|heap ROWS      builds the table in the pool (PoolAllocator) or in process memory  -> ok
 *   put NAME                  puts the built table under NAME                                   -> ok T0 T1
 *   ipc-write PATH            writes the built table as an Arrow IPC file                       -> ok T0 T1
 *   free                      closes the built table                                            -> ok
 *   delete NAME               drops the name and deletes its object                             -> ok
 *   get NAME | ipc-read PATH  loads the table, checksums it, closes it   -> ok TGO TLOADED TDONE CHECKSUM
 *   ping                      one instance_status round trip (the floor under a get's load)      -> ok T0 T1
 *   warm DIR                  a few small rounds of all of the above (class loading, JIT)      -> ok
 *   exit
 * </pre>
 */
public final class PipelinePeer implements AutoCloseable {
    private static final int WARM_ROWS = 200_000;
    private final BufferAllocator heap = new RootAllocator();
    private IpcClient client;
    private BufferAllocator pool;
    private VectorSchemaRoot table;

    private PipelinePeer() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (PipelinePeer peer = new PipelinePeer()) {
            String line;
            while ((line = in.readLine()) != null && !line.equals("exit")) {
                System.out.println("ok" + peer.run(line.split(" ")));
                System.out.flush();
            }
        }
    }

    private String run(String[] c) throws IOException {
        return switch (c[0]) {
            case "connect" -> {
                client = IpcClient.builder().socket(c[1])
                        .prefault(c.length > 2 && c[2].equals("populate") ? Prefault.MAP_POPULATE : Prefault.defaultPrefault())
                        .connect();
                pool = PoolAllocator.root(client);
                yield "";
            }
            case "build" -> {
                table = PipelineTable.build(c[1].equals("pool") ? pool : heap, Integer.parseInt(c[2]));
                yield "";
            }
            case "put" -> {
                long t0 = System.nanoTime();
                client.putNamed(table, c[1]);
                yield " " + t0 + " " + System.nanoTime();
            }
            case "ipc-write" -> {
                long t0 = System.nanoTime();
                try (RandomAccessFile f = new RandomAccessFile(c[1], "rw");
                     ArrowFileWriter writer = new ArrowFileWriter(table, null, f.getChannel())) {
                    writer.start();
                    writer.writeBatch();
                    writer.end();
                }
                yield " " + t0 + " " + System.nanoTime();
            }
            case "free" -> {
                table.close();
                table = null;
                yield "";
            }
            case "delete" -> {
                ObjectId id = client.getName(c[1]);
                client.dropName(c[1]);
                client.delete(id);
                yield "";
            }
            case "get" -> {
                long t0 = System.nanoTime();
                try (VectorSchemaRoot root = client.get(c[1], VectorSchemaRoot.class, heap)) {
                    long loaded = System.nanoTime();
                    PipelineTable.Checksum sum = PipelineTable.checksum(root);
                    yield " " + t0 + " " + loaded + " " + System.nanoTime() + " " + sum.text();
                } finally {
                    client.flushReleases();
                }
            }
            case "ipc-read" -> {
                long t0 = System.nanoTime();
                try (RandomAccessFile f = new RandomAccessFile(c[1], "r");
                     ArrowFileReader reader = new ArrowFileReader(f.getChannel(), heap)) {
                    reader.loadNextBatch();
                    long loaded = System.nanoTime();
                    PipelineTable.Checksum sum = PipelineTable.checksum(reader.getVectorSchemaRoot());
                    yield " " + t0 + " " + loaded + " " + System.nanoTime() + " " + sum.text();
                }
            }
            case "ping" -> {
                long t0 = System.nanoTime();
                client.status();
                yield " " + t0 + " " + System.nanoTime();
            }
            case "warm" -> {
                warm(Path.of(c[1]));
                yield "";
            }
            default -> throw new IllegalArgumentException("unknown command: " + String.join(" ", c));
        };
    }

    /**
     * Every path three times on a small table, then the checksum 20 more times (the baselines' warm-up), and
     * 300 put/get rounds of a tiny table.
     */
    private void warm(Path dir) throws IOException {
        String name = "warm-" + ProcessHandle.current().pid();
        Path file = dir.resolve(name + ".arrow");
        for (int i = 0; i < 3; i++) {
            for (String where : new String[] {"pool", "heap"}) {
                run(new String[] {"build", where, Integer.toString(WARM_ROWS)});
                run(new String[] {"put", name});
                run(new String[] {"get", name});
                run(new String[] {"delete", name});
                run(new String[] {"ipc-write", file.toString()});
                run(new String[] {"ipc-read", file.toString()});
                Files.delete(file);
                run(new String[] {"free"});
            }
        }
        for (int i = 0; i < 300; i++) {   // the request paths (put, get, release) are many small methods: JIT them
            run(new String[] {"build", i % 2 == 0 ? "pool" : "heap", "1000"});
            run(new String[] {"put", name});
            run(new String[] {"get", name});
            run(new String[] {"ping"});
            run(new String[] {"delete", name});
            run(new String[] {"free"});
        }
        for (int rows : new int[] {WARM_ROWS, 20 * WARM_ROWS}) {   // big too: OSR code of small loops deopts on big ones
            try (VectorSchemaRoot t = PipelineTable.build(heap, rows)) {
                for (int i = 0; i < 20; i++) {
                    PipelineTable.checksum(t);
                }
            }
        }
    }

    @Override
    public void close() {
        if (table != null) {
            table.close();
        }
        if (pool != null) {
            pool.close();
        }
        heap.close();
        if (client != null) {
            client.close();
        }
    }
}
