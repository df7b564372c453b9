package io.vineyard.graph;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.io.IoException;
import io.vineyard.io.VineyardIO;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Loads the two-label hand-made graph from CSV and Parquet files through vineyard-io into a real daemon and
 * checks every traversal against {@link TestGraphs}' adjacency lists; a missing file fails the load and
 * leaves nothing behind.
 */
class GraphFilesTest {
    private static DaemonProcess daemon;
    private IpcClient client;
    private long baseline;
    @TempDir
    Path dir;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = DaemonProcess.start("--size=1Gi");
    }

    @AfterAll
    static void stopDaemon() {
        daemon.close();
    }

    @BeforeEach
    void connect() {
        client = IpcClient.connect(daemon.socket());
        baseline = client.status().memoryUsage();
    }

    @AfterEach
    void close() {
        client.close();
    }

    private static String csv(String header, List<String> rows) {
        return header + "\n" + String.join("\n", rows) + "\n";
    }

    @Test
    void csvAndParquetFilesLoadAsTheTablesDo() throws Exception {
        TestGraphs.Graph g = TestGraphs.handMade(i -> i);
        List<TestGraphs.V> persons = g.vertices().get("person");
        Files.writeString(dir.resolve("person.csv"), csv("id,rank",
                persons.stream().map(v -> v.id() + "," + persons.indexOf(v) * 10).toList()));
        List<TestGraphs.V> cities = g.vertices().get("city");
        Files.writeString(dir.resolve("city.csv"), csv("id,rank",
                cities.stream().map(v -> v.id() + "," + cities.indexOf(v) * 10).toList()));
        Files.writeString(dir.resolve("knows.csv"), csv("src,dst,weight", g.edges().stream().filter(e -> e.label().equals("knows"))
                .map(e -> e.src().id() + "," + e.dst().id() + "," + e.weight()).collect(Collectors.toList())));
        // lives as Parquet, written by vineyard-io from a vineyard table
        try (BufferAllocator a = new RootAllocator();
             VectorSchemaRoot lives = TestGraphs.edgeTable(a, g.edges().stream().filter(e -> e.label().equals("lives")).toList())) {
            ObjectId t = client.put(ArrowTable.of(lives));
            VineyardIO.write(client, t, dir.resolve("lives.parquet").toString(), Map.of());
            client.delete(t);
        }
        for (boolean directed : new boolean[] {true, false}) {
            ObjectId id = GraphFiles.builder()
                    .vertices("person", dir.resolve("person.csv").toString())
                    .vertices("city", dir.resolve("city.csv").toString())
                    .edges("knows", "person", "person", dir.resolve("knows.csv").toString())
                    .edges("lives", "person", "city", dir.resolve("lives.parquet").toString())
                    .options(Map.of("header_row", true))
                    .fragments(2)
                    .directed(directed)
                    .load(client);
            try (FragmentGroup group = client.get(id, FragmentGroup.class)) {
                GraphLoaderTest.checkAgainstReference(g, group, directed);
                assertEquals(30L, group.vertexProperty("person", 4L, "rank"));
            }
            client.delete(id);
        }
        client.flushReleases();
        assertEquals(baseline, client.status().memoryUsage(), "the files' tables are deleted with the graph");
        assertEquals(List.of(), client.list("vineyard::Table*", 10));
    }

    @Test
    void aMissingFileFailsTheLoadAndLeavesNothing() throws Exception {
        Files.writeString(dir.resolve("person.csv"), csv("id", List.of("1", "2")));
        List<String> absent = new ArrayList<>(List.of(dir.resolve("knows.csv").toString()));
        assertThrows(IoException.class, () -> GraphFiles.builder()
                .vertices("person", dir.resolve("person.csv").toString())
                .edges("knows", "person", "person", absent.getFirst())
                .options(Map.of("header_row", true))
                .load(client));
        client.flushReleases();
        assertEquals(baseline, client.status().memoryUsage());
        assertEquals(List.of(), client.list("vineyard::*", 10));
    }
}
