package io.vineyard.graph.demo;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.graph.ArrowFragment;
import io.vineyard.graph.FragmentGroup;
import io.vineyard.graph.GraphLoader;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Java half of the cross-language graph tests ({@code python/tests/test_graph.py}):
 * <pre>
 *   put SOCKET NAME FRAGMENTS DIRECTED EDGES.csv   loads "src,dst,weight" lines, names the group NAME
 *   dump SOCKET NAME                               prints each vertex: id, out-neighbours, in-neighbours, out-degree
 * </pre>
 * Run with {@code bin/java-client io.vineyard.graph.demo.GraphPeer ...}.
 */
public final class GraphPeer {
    private GraphPeer() {
    }

    public static void main(String[] args) throws IOException {
        try (IpcClient client = IpcClient.connect(args[1])) {
            switch (args[0]) {
                case "put" -> put(client, args[2], Integer.parseInt(args[3]), Boolean.parseBoolean(args[4]), Path.of(args[5]));
                case "dump" -> dump(client, args[2]);
                default -> throw new IllegalArgumentException("usage: put|dump SOCKET NAME ...");
            }
        }
    }

    private static void put(IpcClient client, String name, int fragments, boolean directed, Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        try (BufferAllocator a = new RootAllocator();
             BigIntVector src = new BigIntVector("src", a);
             BigIntVector dst = new BigIntVector("dst", a);
             Float8Vector weight = new Float8Vector("weight", a)) {
            int n = lines.size();
            src.allocateNew(n);
            dst.allocateNew(n);
            weight.allocateNew(n);
            for (int i = 0; i < n; i++) {
                String[] f = lines.get(i).split(",");
                src.set(i, Long.parseLong(f[0]));
                dst.set(i, Long.parseLong(f[1]));
                weight.set(i, Double.parseDouble(f[2]));
            }
            src.setValueCount(n);
            dst.setValueCount(n);
            weight.setValueCount(n);
            try (VectorSchemaRoot edges = VectorSchemaRoot.of(src, dst, weight)) {
                ObjectId id = GraphLoader.builder().edges(edges).fragments(fragments).directed(directed).load(client);
                client.persist(id);
                client.putName(id, name);
                System.out.println("put ok " + id);
            }
        }
    }

    private static void dump(IpcClient client, String name) {
        try (FragmentGroup g = client.get(name, FragmentGroup.class)) {
            for (ArrowFragment f : g.fragments()) {
                for (Object v : f.vertices(GraphLoader.DEFAULT_LABEL)) {
                    System.out.println(v + "\t" + ids(f.outNeighbors(GraphLoader.DEFAULT_LABEL, v)) + "\t"
                            + ids(f.inNeighbors(GraphLoader.DEFAULT_LABEL, v)) + "\t" + f.outDegree(GraphLoader.DEFAULT_LABEL, v));
                }
            }
        }
    }

    private static String ids(List<ArrowFragment.Neighbor> ns) {
        List<Long> out = new ArrayList<>();
        for (ArrowFragment.Neighbor n : ns) {
            out.add((Long) n.id());
        }
        out.sort(null);
        return out.toString().replace(" ", "");
    }
}
