package io.vineyard.graph;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs the Java examples of docs/graph.md and of the graph module's Javadoc, and checks the docs show this code. */
class GraphDocExamplesTest {
    private static final Path SOURCE = DocSnippets.repo().resolve(
            "vineyard-graph/src/test/java/io/vineyard/graph/GraphDocExamplesTest.java");
    private static final Path MAIN = DocSnippets.repo().resolve("vineyard-graph/src/main/java/io/vineyard/graph");

    @Test
    void theDocsShowTheCodeThisTestRuns() throws Exception {
        DocSnippets.assertShown(DocSnippets.repo().resolve("docs/graph.md"), 0, SOURCE);
        for (String file : List.of("GraphLoader.java", "FragmentGroup.java", "Csr.java", "GraphFiles.java")) {
            DocSnippets.assertEveryBlockShown(DocSnippets.javadocBlocks(MAIN.resolve(file)), MAIN.resolve(file), SOURCE);
        }
    }

    private static BigIntVector longs(BufferAllocator a, String name, long... values) {
        BigIntVector v = new BigIntVector(name, a);
        v.allocateNew(values.length);
        for (int i = 0; i < values.length; i++) {
            v.set(i, values[i]);
        }
        v.setValueCount(values.length);
        return v;
    }

    private static Float8Vector doubles(BufferAllocator a, String name, double... values) {
        Float8Vector v = new Float8Vector(name, a);
        v.allocateNew(values.length);
        for (int i = 0; i < values.length; i++) {
            v.set(i, values[i]);
        }
        v.setValueCount(values.length);
        return v;
    }

    @Test
    void docExample() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start("--size=256Mi");
             BufferAllocator a = new RootAllocator();
             VectorSchemaRoot edges = VectorSchemaRoot.of(longs(a, "src", 1, 1, 2, 3), longs(a, "dst", 2, 3, 3, 1),
                     doubles(a, "weight", 0.5, 1.5, 2.5, 3.5))) {
            String SOCKET = daemon.socket();
            long baseline;
            try (IpcClient probe = IpcClient.connect(SOCKET)) {
                baseline = probe.status().memoryUsage();
            }
            // ---- docs/graph.md, Java ----
            try (IpcClient client = IpcClient.connect(SOCKET)) {
                ObjectId id = GraphLoader.builder().edges(edges).fragments(2).load(client);   // edges: src, dst, weight
                try (FragmentGroup g = client.get(id, FragmentGroup.class)) {
                    List<ArrowFragment.Neighbor> out = g.outNeighbors(GraphLoader.DEFAULT_LABEL, 1L);
                    Object weight = g.owner(GraphLoader.DEFAULT_LABEL, 1L)
                            .edgeProperty(GraphLoader.DEFAULT_LABEL, out.getFirst().edgeId(), "weight");
                    long degree = g.outDegree(GraphLoader.DEFAULT_LABEL, 1L);
                    PageRank.Result ranks = PageRank.run(g, 0.85, 10);
                    Bfs.Result hops = Bfs.run(g, GraphLoader.DEFAULT_LABEL, 1L);
                    System.out.println(out + " " + weight + " " + degree + " " + ranks.rank("_", 3L) + " " + hops.depth("_", 3L));
                }
                client.delete(id);                                                            // fragments, vertex map, blobs
            }
            // ---- end ----
            try (IpcClient probe = IpcClient.connect(SOCKET)) {
                assertEquals(baseline, probe.status().memoryUsage());
            }
        }
    }

    @Test
    void javadocExamples() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start("--size=256Mi");
             BufferAllocator a = new RootAllocator();
             VectorSchemaRoot persons = VectorSchemaRoot.of(longs(a, "id", 1, 42, 7), longs(a, "age", 30, 40, 50));
             VectorSchemaRoot knows = VectorSchemaRoot.of(longs(a, "src", 1, 42, 42), longs(a, "dst", 42, 7, 1));
             IpcClient client = IpcClient.connect(daemon.socket())) {
            // GraphLoader
            ObjectId group = GraphLoader.builder()
                    .vertices("person", persons)                    // an "id" column (int64 or string) + properties
                    .edges("knows", "person", "person", knows)      // "src" and "dst" columns + properties
                    .fragments(4)
                    .directed(true)
                    .load(client);
            // FragmentGroup
            ObjectId groupId = group;
            FragmentGroup g = client.get(groupId, FragmentGroup.class);      // close() it when done
            List<ArrowFragment.Neighbor> out = g.outNeighbors("person", 42L);
            long degree = g.outDegree("person", 42L);
            PageRank.Result ranks = PageRank.run(g, 0.85, 10);
            assertEquals(2, degree);
            assertEquals(List.of(1L, 7L), out.stream().map(ArrowFragment.Neighbor::id).sorted().toList());
            assertEquals(1.0, ranks.rank("person", 1L) + ranks.rank("person", 42L) + ranks.rank("person", 7L), 1e-12);
            csrExample(g.owner("person", 42L));
            g.close();
            client.delete(group);
        }
    }

    @Test
    void graphFilesJavadocExample(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String dir = tmp.toString();
        java.nio.file.Files.writeString(tmp.resolve("person.csv"), "id,age\n1,30\n42,40\n7,50\n");
        try (DaemonProcess daemon = DaemonProcess.start("--size=256Mi");
             BufferAllocator a = new RootAllocator();
             VectorSchemaRoot knows = VectorSchemaRoot.of(longs(a, "src", 1, 42, 42), longs(a, "dst", 42, 7, 1));
             IpcClient client = IpcClient.connect(daemon.socket())) {
            ObjectId table = client.put(io.vineyard.arrow.ArrowTable.of(knows));
            io.vineyard.io.VineyardIO.write(client, table, dir + "/knows.parquet", Map.of());
            client.delete(table);
            // GraphFiles
            ObjectId group = GraphFiles.builder()
                    .vertices("person", dir + "/person.csv")                // an "id" column + properties
                    .edges("knows", "person", "person", dir + "/knows.parquet")   // "src", "dst" + properties
                    .options(Map.of("header_row", true))                   // vineyard-io's read options, for every file
                    .fragments(2)
                    .load(client);
            try (FragmentGroup g = client.get(group, FragmentGroup.class)) {
                assertEquals(List.of(1L, 7L), g.outNeighbors("person", 42L).stream().map(ArrowFragment.Neighbor::id).sorted().toList());
                assertEquals(40L, g.vertexProperty("person", 42L, "age"));
            }
            client.delete(group);
        }
    }

    private final List<Object> seen = new java.util.ArrayList<>();
    private final List<Long> eids = new java.util.ArrayList<>();

    private void visit(Object id, long eid) {
        seen.add(id);
        eids.add(eid);
    }

    private void csrExample(ArrowFragment fragment) {
        int label = fragment.vertexLabel("person");
        int edgeLabel = fragment.edgeLabel("knows");
        long offset = fragment.parser().offset(fragment.innerVertex(label, (Object) 42L));
        // Csr
        Csr out = fragment.outEdges(label, edgeLabel);
        for (long i = out.begin(offset), end = out.end(offset); i < end; i++) {
            long nbrVid = out.neighbor(i);   // a local vid: fragment.idOf(nbrVid) is the original id
            long eid = out.edgeId(i);        // the row of the edge table
            visit(fragment.idOf(nbrVid), eid);
        }
        assertEquals(List.of(1L, 7L), seen.stream().sorted().toList());
        assertEquals(fragment.outNeighbors("person", 42L).stream().map(ArrowFragment.Neighbor::edgeId).toList(), eids);
    }
}
