package io.vineyard.graph;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loads graphs into a real daemon and checks every traversal (neighbours with edge properties, degrees,
 * vertex properties, BFS, PageRank) against {@link TestGraphs}' plain adjacency lists; usage returns to
 * the baseline after the delete.
 */
class GraphLoaderTest {
    private static DaemonProcess daemon;
    private IpcClient client;
    private BufferAllocator allocator;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private long baseline;

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
        allocator = new RootAllocator();
        baseline = client.status().memoryUsage();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : owned) {
            c.close();
        }
        allocator.close();
        client.close();
    }

    private static Object intId(long i) {
        return i;
    }

    private static Object stringId(long i) {
        return "v-" + i;
    }

    @ParameterizedTest(name = "fragments={0} directed={1} strings={2}")
    @CsvSource({"1,true,false", "2,true,false", "3,true,false", "1,false,false", "3,false,false", "2,true,true", "3,false,true"})
    void handMadeGraphTraversesAsTheReference(int fragments, boolean directed, boolean strings) {
        TestGraphs.Graph g = TestGraphs.handMade(strings ? GraphLoaderTest::stringId : GraphLoaderTest::intId);
        ObjectId id = g.loader(allocator, owned).fragments(fragments).directed(directed).load(client);
        try (FragmentGroup group = client.get(id, FragmentGroup.class)) {
            assertEquals(fragments, group.size());
            checkAgainstReference(g, group, directed);
            assertTrue(group.fragment(0).isMultigraph() || fragments > 1, "1 knows 2 twice");
            TestGraphs.V person = g.vertices().get("person").get(2);
            assertEquals(20L, group.vertexProperty("person", person.id(), "rank"));
        }
        client.delete(id);
        client.flushReleases();
        assertEquals(baseline, client.status().memoryUsage(), "usage back to baseline after delete");
    }

    @Test
    void generatedGraphTraversesAsTheReference() {
        TestGraphs.Graph g = TestGraphs.random(3_000, 30_000, 7);
        ObjectId id = g.loader(allocator, owned).fragments(4).load(client);
        try (FragmentGroup group = client.get(id, FragmentGroup.class)) {
            checkAgainstReference(g, group, true);
        }
        client.delete(id);
        client.flushReleases();
        assertEquals(baseline, client.status().memoryUsage());
    }

    static void checkAgainstReference(TestGraphs.Graph g, FragmentGroup group, boolean directed) {
        Map<TestGraphs.V, List<String>> out = TestGraphs.adjacency(g, true, directed);
        Map<TestGraphs.V, List<String>> in = TestGraphs.adjacency(g, false, directed);
        for (String label : g.vertices().keySet()) {
            List<Object> expected = g.allVertices().stream().filter(v -> v.label().equals(label)).map(TestGraphs.V::id).toList();
            assertEquals(new HashSet<>(expected), new HashSet<>(group.vertices(label)), "vertices of " + label);
            assertEquals(expected.size(), group.vertices(label).size());
        }
        for (TestGraphs.V v : g.allVertices()) {
            ArrowFragment owner = group.owner(v.label(), v.id());
            assertEquals(out.get(v), keys(owner, group.outNeighbors(v.label(), v.id())), "out-neighbours of " + v);
            assertEquals(in.get(v), keys(owner, group.inNeighbors(v.label(), v.id())), "in-neighbours of " + v);
            assertEquals(out.get(v).size(), group.outDegree(v.label(), v.id()), "out-degree of " + v);
        }
        Map<TestGraphs.V, Double> ranks = TestGraphs.pageRank(g, directed, 0.85, 20);
        PageRank.Result pr = PageRank.run(group, 0.85, 20);
        ranks.forEach((v, r) -> assertEquals(r, pr.rank(v.label(), v.id()), 1e-12, "pagerank of " + v));
        TestGraphs.V source = g.allVertices().getFirst();
        Map<TestGraphs.V, Integer> depths = TestGraphs.bfs(g, directed, source);
        Bfs.Result bfs = Bfs.run(group, source.label(), source.id());
        for (TestGraphs.V v : g.allVertices()) {
            assertEquals(depths.getOrDefault(v, -1), bfs.depth(v.label(), v.id()), "bfs depth of " + v);
        }
    }

    /** The neighbours as the reference spells them; edge ids index the answering fragment's edge table. */
    private static List<String> keys(ArrowFragment owner, List<ArrowFragment.Neighbor> ns) {
        List<String> out = new ArrayList<>();
        for (ArrowFragment.Neighbor n : ns) {
            Object w = owner.edgeProperty(n.edgeLabel(), n.edgeId(), "weight");
            out.add(n.label() + ":" + n.id() + " " + n.edgeLabel() + " " + w);
        }
        out.sort(null);
        return out;
    }

    @Test
    void aShallowDeleteOfTheGroupLeavesItsFragments() {
        ObjectId id = TestGraphs.handMade(GraphLoaderTest::intId).loader(allocator, owned).fragments(2).load(client);
        ObjectMeta group = client.getMeta(id);
        client.delete(false, id);
        assertTrue(!client.exists(id), "the group is gone");
        for (int i = 0; i < 2; i++) {
            ObjectId frag = group.member("frag_object_id_" + i).id();
            assertTrue(client.exists(frag), "fragment " + i + " stays");
            client.delete(frag);
        }
        client.flushReleases();
        assertEquals(baseline, client.status().memoryUsage(), "the fragments' deletes free everything");
    }

    @Test
    void theFragmentHasVineyardsMetadataShape() {
        TestGraphs.Graph g = TestGraphs.handMade(GraphLoaderTest::intId);
        ObjectId id = g.loader(allocator, owned).fragments(2).load(client);
        ObjectMeta group = client.getMeta(id);
        assertEquals("vineyard::ArrowFragmentGroup", group.typename());
        assertTrue(group.isGlobal());
        assertEquals(2, group.getLong("total_frag_num"));
        assertEquals(2, group.getLong("vertex_label_num"));
        assertEquals(2, group.getLong("edge_label_num"));
        assertEquals(client.instanceId(), group.getLong("frag_instance_id_1"));
        ObjectMeta f = group.member("frag_object_id_1");
        assertEquals("vineyard::ArrowFragment<int64,uint64,vineyard::ArrowVertexMap<int64,uint64>,false>", f.typename());
        assertEquals(1, f.getLong("fid_"));
        assertEquals(2, f.getLong("fnum_"));
        assertEquals("int64", f.getString("oid_type"));
        assertEquals("uint64", f.getString("vid_type"));
        assertEquals("vineyard::Array<uint64>", f.member("ivnums_").typename());
        assertEquals(2, f.getLong("__vertex_tables_-size"));
        assertEquals("vineyard::Table", f.member("__vertex_tables_-1").typename());
        assertEquals("vineyard::NumericArray<uint64>", f.member("__ovgid_lists_-0").typename());
        assertEquals("vineyard::Hashmap<uint64,uint64,wy::hash<uint64>,std::equal_to<uint64>>",
                f.member("__ovg2l_maps_-0").typename());
        assertEquals(2, f.getLong("__oe_lists_-1-size"));
        ObjectMeta oe = f.member("__oe_lists_-0-1");
        assertEquals("vineyard::FixedSizeBinaryArray", oe.typename());
        assertEquals(16, oe.getLong("byte_width_"));
        assertEquals("vineyard::NumericArray<int64>", f.member("__ie_offsets_lists_-1-0").typename());
        assertEquals(0, f.getLong("__compact_oe_lists_-size"));
        ObjectMeta vm = f.member("vm_ptr_");
        assertEquals("vineyard::ArrowVertexMap<int64,uint64>", vm.typename());
        assertEquals("vineyard::Hashmap<int64,uint64,wy::hash<int64>,std::equal_to<int64>>", vm.member("o2g_1_0").typename());
        assertEquals("vineyard::NumericArray<int64>", vm.member("oid_arrays_0_1").typename());
        assertEquals(f.member("vm_ptr_").id(), group.member("frag_object_id_0").member("vm_ptr_").id(), "one vertex map");
        var schema = f.getJson("schema_json_");
        assertEquals(2, schema.get("partitionNum").asInt());
        assertEquals("person", schema.get("types").get(0).get("label").asText());
        assertEquals("EDGE", schema.get("types").get(3).get("type").asText());
        assertEquals("DOUBLE", schema.get("types").get(2).get("propertyDefList").get(0).get("data_type").asText());
        client.delete(id);
    }

    @Test
    void stringIdsHaveVineyardsStringViewO2gMaps() {
        TestGraphs.Graph g = TestGraphs.handMade(GraphLoaderTest::stringId);
        ObjectId id = g.loader(allocator, owned).fragments(2).load(client);
        ObjectMeta vm = client.getMeta(id).member("frag_object_id_0").member("vm_ptr_");
        assertEquals("vineyard::ArrowVertexMap<std::basic_string_view<char,std::char_traits<char>>,uint64>", vm.typename());
        for (int f = 0; f < 2; f++) {
            for (int l = 0; l < 2; l++) {
                ObjectMeta oids = vm.member("oid_arrays_" + f + "_" + l);
                ObjectMeta o2g = vm.member("o2g_" + f + "_" + l);
                assertEquals("vineyard::BaseBinaryArray<arrow::LargeStringArray>", oids.typename());
                assertEquals(io.vineyard.client.types.StringViewHashmap.TYPENAME, o2g.typename());
                assertEquals(oids.getLong("length_"), o2g.getLong("num_elements_"));
                // the keys are views into the oid array's bytes: the map names that blob
                assertEquals(oids.member("buffer_data_").id(), o2g.member("data_buffer_mapped_").id());
            }
        }
        try (FragmentGroup group = client.get(id, FragmentGroup.class)) {
            VertexMap map = group.fragment(0).vertexMap();
            for (TestGraphs.V v : g.allVertices()) {
                int label = group.fragment(0).vertexLabel(v.label());
                long gid = map.gid(label, v.id());
                assertEquals(v.id(), map.oid(gid), "o2g then oid_arrays of " + v);
            }
            assertEquals(-1, map.gid(0, "no such vertex"));
        }
        client.delete(id);
    }

    @Test
    void anEdgeToAnUnknownVertexIsRefusedAndNothingIsWritten() {
        TestGraphs.Graph g = TestGraphs.handMade(GraphLoaderTest::intId);
        List<TestGraphs.E> edges = new ArrayList<>(g.edges());
        edges.add(new TestGraphs.E("knows", new TestGraphs.V("person", 1L), new TestGraphs.V("person", 99L), 1));
        TestGraphs.Graph bad = new TestGraphs.Graph(g.vertices(), g.edgeLabels(), edges);
        VineyardException e = assertThrows(VineyardException.class, () -> bad.loader(allocator, owned).load(client));
        assertTrue(e.getMessage().contains("names 99, which is not a vertex of label person"), e.getMessage());
        assertEquals(baseline, client.status().memoryUsage());
        assertEquals(0, client.list("vineyard::Arrow*", 10).size());
    }

    @Test
    void badTablesAreRefusedWithTheReason() {
        VectorSchemaRoot noSrc = VectorSchemaRoot.of(TestGraphs.ids(allocator, "from", List.of(1L)),
                TestGraphs.ids(allocator, "dst", List.of(2L)));
        owned.add(noSrc);
        VineyardException e = assertThrows(VineyardException.class, () -> GraphLoader.builder().edges(noSrc).load(client));
        assertTrue(e.getMessage().contains("has no column src"), e.getMessage());
        Float8Vector d = new Float8Vector("src", allocator);
        d.allocateNew(1);
        d.set(0, 1.5);
        d.setValueCount(1);
        VectorSchemaRoot floats = VectorSchemaRoot.of(d, TestGraphs.ids(allocator, "dst", List.of(2L)));
        owned.add(floats);
        e = assertThrows(VineyardException.class, () -> GraphLoader.builder().edges(floats).load(client));
        assertTrue(e.getMessage().contains("vertex ids must be integers or strings"), e.getMessage());
        VectorSchemaRoot dup = VectorSchemaRoot.of(TestGraphs.ids(allocator, "id", List.of(1L, 1L)));
        owned.add(dup);
        e = assertThrows(VineyardException.class, () -> GraphLoader.builder().vertices("_", dup).load(client));
        assertTrue(e.getMessage().contains("given twice"), e.getMessage());
        assertEquals(baseline, client.status().memoryUsage());
    }
}
