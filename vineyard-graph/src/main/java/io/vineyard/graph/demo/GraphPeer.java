package io.vineyard.graph.demo;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.graph.ArrowFragment;
import io.vineyard.graph.FragmentGroup;
import io.vineyard.graph.GraphFiles;
import io.vineyard.graph.GraphLoader;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Java half of the cross-language graph tests ({@code python/tests/test_graph.py}):
 * <pre>
 *   put SOCKET NAME FRAGMENTS DIRECTED EDGES.csv   loads "src,dst,weight" lines (int64 ids, or strings when
 *                                                  some id is not an integer), names the group NAME
 *   putfiles SOCKET NAME FRAGMENTS DIRECTED v:LABEL=FILE.csv... e:LABEL:SRC:DST=FILE.csv...
 *                                                  loads CSV files with header rows (GraphFiles), names the group NAME
 *   putcluster SOCKET,SOCKET... NAME DIRECTED EDGES.csv
 *                                                  loads the edges across the daemons of a cluster (fragment i on
 *                                                  the i-th), names the group NAME on the first
 *   dump SOCKET NAME                               prints each vertex of the fragments on SOCKET's instance: id,
 *                                                  out-neighbours, in-neighbours, out-degree
 * </pre>
 * Run with {@code bin/java-client io.vineyard.graph.demo.GraphPeer ...}.
 */
public final class GraphPeer {
    private GraphPeer() {
    }

    public static void main(String[] args) throws IOException {
        if (args[0].equals("putcluster")) {
            putCluster(args[1].split(","), args[2], Boolean.parseBoolean(args[3]), Path.of(args[4]));
            return;
        }
        try (IpcClient client = IpcClient.connect(args[1])) {
            switch (args[0]) {
                case "put" -> put(client, args[2], Integer.parseInt(args[3]), Boolean.parseBoolean(args[4]), Path.of(args[5]));
                case "dump" -> dump(client, args[2]);
                case "putfiles" -> putFiles(client, args);
                default -> throw new IllegalArgumentException("usage: put|dump SOCKET NAME ...");
            }
        }
    }

    private static void put(IpcClient client, String name, int fragments, boolean directed, Path csv) throws IOException {
        withEdges(csv, edges -> {
            ObjectId id = GraphLoader.builder().edges(edges).fragments(fragments).directed(directed).load(client);
            client.persist(id);
            client.putName(id, name);
            System.out.println("put ok " + id);
        });
    }

    private static void putCluster(String[] sockets, String name, boolean directed, Path csv) throws IOException {
        List<IpcClient> clients = new ArrayList<>();
        try {
            for (String s : sockets) {
                clients.add(IpcClient.connect(s));
            }
            withEdges(csv, edges -> {
                ObjectId id = GraphLoader.builder().edges(edges).directed(directed).load(clients);
                clients.getFirst().putName(id, name);
                System.out.println("put ok " + id);
            });
        } finally {
            clients.forEach(IpcClient::close);
        }
    }

    /** Reads "src,dst,weight" lines (int64 ids, or strings when some id is not an integer) into a table. */
    private static void withEdges(Path csv, java.util.function.Consumer<VectorSchemaRoot> use) throws IOException {
        List<String[]> lines = Files.readAllLines(csv).stream().map(l -> l.split(",")).toList();
        boolean strings = lines.stream().anyMatch(f -> !f[0].matches("-?[0-9]+") || !f[1].matches("-?[0-9]+"));
        try (BufferAllocator a = new RootAllocator();
             FieldVector src = strings ? new VarCharVector("src", a) : new BigIntVector("src", a);
             FieldVector dst = strings ? new VarCharVector("dst", a) : new BigIntVector("dst", a);
             Float8Vector weight = new Float8Vector("weight", a)) {
            int n = lines.size();
            weight.allocateNew(n);
            for (int i = 0; i < n; i++) {
                String[] f = lines.get(i);
                set(src, i, f[0]);
                set(dst, i, f[1]);
                weight.set(i, Double.parseDouble(f[2]));
            }
            src.setValueCount(n);
            dst.setValueCount(n);
            weight.setValueCount(n);
            try (VectorSchemaRoot edges = VectorSchemaRoot.of(src, dst, weight)) {
                use.accept(edges);
            }
        }
    }

    private static void putFiles(IpcClient client, String[] args) {
        GraphFiles files = GraphFiles.builder().fragments(Integer.parseInt(args[3])).directed(Boolean.parseBoolean(args[4]))
                .options(Map.of("header_row", true));
        for (int i = 5; i < args.length; i++) {
            String[] spec = args[i].split("=", 2);
            String[] what = spec[0].split(":");
            if (what[0].equals("v")) {
                files.vertices(what[1], spec[1]);
            } else {
                files.edges(what[1], what[2], what[3], spec[1]);
            }
        }
        ObjectId id = files.load(client);
        client.persist(id);
        client.putName(id, args[2]);
        System.out.println("put ok " + id);
    }

    private static void set(FieldVector v, int row, String value) {
        if (v instanceof BigIntVector b) {
            b.setSafe(row, Long.parseLong(value));
        } else {
            ((VarCharVector) v).setSafe(row, value.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void dump(IpcClient client, String name) {
        try (FragmentGroup g = client.get(name, FragmentGroup.class)) {
            for (ArrowFragment f : g.localFragments()) {
                for (Object v : f.vertices(GraphLoader.DEFAULT_LABEL)) {
                    System.out.println(v + "\t" + ids(f.outNeighbors(GraphLoader.DEFAULT_LABEL, v)) + "\t"
                            + ids(f.inNeighbors(GraphLoader.DEFAULT_LABEL, v)) + "\t" + f.outDegree(GraphLoader.DEFAULT_LABEL, v));
                }
            }
        }
    }

    private static String ids(List<ArrowFragment.Neighbor> ns) {
        List<Comparable<Object>> out = new ArrayList<>();
        for (ArrowFragment.Neighbor n : ns) {
            @SuppressWarnings("unchecked")
            Comparable<Object> id = (Comparable<Object>) n.id();
            out.add(id);
        }
        out.sort(null);
        return out.toString().replace(" ", "");
    }
}
