package io.vineyard.graph;

import io.vineyard.client.Client;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.cluster.EtcdProcess;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Graphs loaded across a cluster: a real etcd and three daemons sharing metadata through it (each its own
 * pool, started and stopped by this test), one client per daemon, fragment {@code i} on instance {@code i}.
 * The group is read from every instance, each seeing its own fragments in place and the others by
 * metadata; neighbours, degrees and properties are asked of the owner's instance, and PageRank and BFS
 * run as one worker per instance (threads of this JVM, each with its own client, exchanging outer
 * vertices' values), all checked against {@link TestGraphs}' plain references; every instance's usage
 * returns to its baseline after the delete.
 */
class DistributedGraphTest {
    private static EtcdProcess etcd;
    private static final List<DaemonProcess> daemons = new ArrayList<>();
    private final List<IpcClient> clients = new ArrayList<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final List<Long> baselines = new ArrayList<>();
    private BufferAllocator allocator;

    @BeforeAll
    static void startCluster() throws Exception {
        assumeTrue(EtcdProcess.available(), "etcd-server is not installed");
        etcd = EtcdProcess.start();
        String prefix = "vg-" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 3; i++) {
            daemons.add(DaemonProcess.start("--meta=etcd", "--etcd_endpoint=" + etcd.endpoint(), "--etcd_prefix=" + prefix,
                    "--etcd_lease_ttl=3", "--meta_timeout=20", "--size=" + (i == 2 ? "4Mi" : "512Mi")));
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (DaemonProcess d : daemons) {
            d.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @BeforeEach
    void connect() {
        for (DaemonProcess d : daemons) {
            IpcClient c = IpcClient.connect(d.socket());
            clients.add(c);
            baselines.add(c.status().memoryUsage());
        }
        allocator = new RootAllocator();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : owned) {
            c.close();
        }
        allocator.close();
        for (IpcClient c : clients) {
            c.close();
        }
    }

    private static Object stringId(long i) {
        return "v-" + i;
    }

    @ParameterizedTest(name = "strings={0} directed={1}")
    @CsvSource({"false,true", "true,false"})
    void handMadeGraphOnThreeInstancesTraversesAsTheReference(boolean strings, boolean directed) throws Exception {
        TestGraphs.Graph g = TestGraphs.handMade(strings ? DistributedGraphTest::stringId : i -> i);
        ObjectId id = g.loader(allocator, owned).directed(directed).load(clients);
        checkPlacement(id, 3);
        checkAgainstReference(g, id, directed);
        deleteAndCheckBaselines(id);
    }

    @Test
    void twoFragmentsPerInstanceOfAGeneratedGraph() throws Exception {
        TestGraphs.Graph g = TestGraphs.random(2_000, 20_000, 11);
        List<Client> two = List.of(clients.get(0), clients.get(1));
        ObjectId id = g.loader(allocator, owned).fragments(4).load(two);
        ObjectMeta meta = clients.get(1).getMeta(id);
        for (int f = 0; f < 4; f++) {
            assertEquals(two.get(f % 2).instanceId(), meta.getLong("frag_instance_id_" + f), "fragment " + f + " on instance f mod 2");
        }
        checkAgainstReference(g, id, true, two);
        // the third instance holds no fragment: it reads the group's metadata, maps nothing, runs no worker
        try (FragmentGroup group = clients.get(2).get(id, FragmentGroup.class)) {
            assertEquals(List.of(), group.localFragments());
            assertEquals(-1, group.workerIndex());
            assertThrows(VineyardException.ObjectNotExists.class, () -> group.outNeighbors("_", 3L));
        }
        GraphLoader.delete(two, id);
        for (int i = 0; i < 2; i++) {
            clients.get(i).flushReleases();
            assertEquals(baselines.get(i), clients.get(i).status().memoryUsage(), "usage of instance " + i + " back to baseline");
        }
    }

    @Test
    void fewerFragmentsThanInstancesLeaveTheLastInstanceEmpty() {
        ObjectId id = TestGraphs.handMade(i -> i).loader(allocator, owned).fragments(2).load(clients);
        long third = clients.get(2).instanceId();
        assertEquals(List.of(), clients.get(2).list("vineyard::Arrow*", 10).stream().filter(m -> m.instanceId() == third).toList(),
                "no fragment, no vertex map on instance 2 (it lists the others' persisted ones)");
        try (FragmentGroup group = clients.get(2).get(id, FragmentGroup.class)) {
            assertEquals(2, group.size());
            assertEquals(List.of(clients.get(0).instanceId(), clients.get(1).instanceId()), group.instances());
        }
        deleteAndCheckBaselines(id);
    }

    /** Every instance reads the group: vineyard's keys, fragment i on instance i, only its own fragment in place. */
    private void checkPlacement(ObjectId id, int fnum) {
        for (IpcClient c : clients) {
            ObjectMeta m = c.getMeta(id);
            assertEquals("vineyard::ArrowFragmentGroup", m.typename());
            assertTrue(m.isGlobal());
            assertEquals(fnum, m.getLong("total_frag_num"));
            for (int i = 0; i < fnum; i++) {
                assertEquals(i, m.getLong("fid_" + i));
                assertEquals(clients.get(i).instanceId(), m.getLong("frag_instance_id_" + i));
                ObjectMeta frag = m.member("frag_object_id_" + i);
                assertEquals(clients.get(i).instanceId(), frag.instanceId(), "fragment " + i + " lives on instance i");
                assertEquals(clients.get(i).instanceId(), frag.member("vm_ptr_").instanceId(), "its vertex map is local to it");
                assertEquals(i, frag.getLong("fid_"));
                assertEquals(fnum, frag.getLong("fnum_"));
            }
            try (FragmentGroup group = c.get(id, FragmentGroup.class)) {
                int self = clients.indexOf(c);
                assertEquals(List.of(self), group.localFragments().stream().map(ArrowFragment::fid).toList());
                assertEquals(self, group.workerIndex());
                int other = (self + 1) % fnum;
                assertTrue(!group.isLocal(other) && group.location(other) == clients.get(other).instanceId());
                assertThrows(VineyardException.ObjectNotExists.class, () -> group.fragment(other));
                assertThrows(VineyardException.ObjectNotExists.class, () -> PageRank.run(group, 0.85, 1));
            }
        }
    }

    private void checkAgainstReference(TestGraphs.Graph g, ObjectId id, boolean directed) throws Exception {
        checkAgainstReference(g, id, directed, List.copyOf(clients));
    }

    private void checkAgainstReference(TestGraphs.Graph g, ObjectId id, boolean directed, List<Client> workers) throws Exception {
        List<FragmentGroup> groups = new ArrayList<>();
        for (Client c : workers) {
            groups.add(c.get(id, FragmentGroup.class));
        }
        try {
            Map<TestGraphs.V, List<String>> out = TestGraphs.adjacency(g, true, directed);
            Map<TestGraphs.V, List<String>> in = TestGraphs.adjacency(g, false, directed);
            Set<TestGraphs.V> seen = new HashSet<>();
            for (FragmentGroup group : groups) {
                for (ArrowFragment f : group.localFragments()) {
                    for (String label : f.vertexLabels()) {
                        for (Object oid : f.vertices(label)) {
                            assertTrue(seen.add(new TestGraphs.V(label, oid)), "vertex " + oid + " on one fragment only");
                        }
                    }
                }
            }
            assertEquals(new HashSet<>(g.allVertices()), seen, "the fragments' vertices");
            for (TestGraphs.V v : g.allVertices()) {
                FragmentGroup at = groups.get(groups.getFirst().workerOf(groups.getFirst().ownerFid(v.label(), v.id())));
                ArrowFragment owner = at.owner(v.label(), v.id());
                assertEquals(out.get(v), keys(owner, at.outNeighbors(v.label(), v.id())), "out-neighbours of " + v);
                assertEquals(in.get(v), keys(owner, at.inNeighbors(v.label(), v.id())), "in-neighbours of " + v);
                assertEquals(out.get(v).size(), at.outDegree(v.label(), v.id()), "out-degree of " + v);
            }
            Map<TestGraphs.V, Double> ranks = TestGraphs.pageRank(g, directed, 0.85, 20);
            List<Exchange> prExchange = Exchange.inProcess(groups.size());
            List<PageRank.WorkerResult> pr = onWorkers(groups.size(), w -> PageRank.runWorker(groups.get(w), prExchange.get(w), 0.85, 20));
            ranks.forEach((v, r) -> {
                int w = groups.getFirst().workerOf(groups.getFirst().ownerFid(v.label(), v.id()));
                assertEquals(r, pr.get(w).rank(v.label(), v.id()), 1e-12, "pagerank of " + v);
            });
            TestGraphs.V source = g.allVertices().getFirst();
            Map<TestGraphs.V, Integer> depths = TestGraphs.bfs(g, directed, source);
            List<Exchange> bfsExchange = Exchange.inProcess(groups.size());
            List<Bfs.WorkerResult> bfs = onWorkers(groups.size(), w -> Bfs.runWorker(groups.get(w), bfsExchange.get(w), source.label(), source.id()));
            for (TestGraphs.V v : g.allVertices()) {
                int w = groups.getFirst().workerOf(groups.getFirst().ownerFid(v.label(), v.id()));
                assertEquals(depths.getOrDefault(v, -1), bfs.get(w).depth(v.label(), v.id()), "bfs depth of " + v);
                assertThrows(VineyardException.ObjectNotExists.class, () -> bfs.get((w + 1) % groups.size()).depth(v.label(), v.id()),
                        "another worker does not answer for " + v);
            }
        } finally {
            groups.forEach(FragmentGroup::close);
        }
    }

    /** Runs one worker per thread and returns their results by rank; a worker's failure fails the call. */
    static <T> List<T> onWorkers(int n, IntFunction<T> worker) throws Exception {
        List<CompletableFuture<T>> futures = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            int rank = w;
            CompletableFuture<T> f = new CompletableFuture<>();
            Thread.ofPlatform().name("graph-worker-" + w).start(() -> {
                try {
                    f.complete(worker.apply(rank));
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            });
            futures.add(f);
        }
        List<T> out = new ArrayList<>();
        for (CompletableFuture<T> f : futures) {
            out.add(f.get());
        }
        return out;
    }

    private static List<String> keys(ArrowFragment owner, List<ArrowFragment.Neighbor> ns) {
        List<String> out = new ArrayList<>();
        for (ArrowFragment.Neighbor n : ns) {
            out.add(n.label() + ":" + n.id() + " " + n.edgeLabel() + " " + owner.edgeProperty(n.edgeLabel(), n.edgeId(), "weight"));
        }
        out.sort(null);
        return out;
    }

    private void deleteAndCheckBaselines(ObjectId id) {
        GraphLoader.delete(clients, id);
        for (int i = 0; i < clients.size(); i++) {
            clients.get(i).flushReleases();
            assertEquals(baselines.get(i), clients.get(i).status().memoryUsage(), "usage of instance " + i + " back to baseline: "
                    + clients.get(i).list("*", 100).stream().map(m -> m.what() + "@" + m.instanceId()).toList());
        }
    }

    @ParameterizedTest(name = "fragments={0}")
    @CsvSource({"3", "5"})
    void aDeepDeleteOfTheGroupFromTheFirstInstanceDeletesEveryInstancesObjects(int fragments) {
        // five fragments on three instances: two instances each hold two fragments naming one vertex map
        TestGraphs.Graph g = TestGraphs.handMade(i -> i);
        ObjectId id = g.loader(allocator, owned).fragments(fragments).load(clients);
        clients.getFirst().delete(id);
        for (int i = 0; i < clients.size(); i++) {
            IpcClient c = clients.get(i);
            assertTrue(eventually(() -> c.list("*", 100).isEmpty()), "nothing left on instance " + i + ": "
                    + c.list("*", 100).stream().map(m -> m.what() + "@" + m.instanceId()).toList());
            c.flushReleases();
            assertEquals(baselines.get(i), c.status().memoryUsage(), "usage of instance " + i + " back to baseline");
        }
    }

    @Test
    void aFragmentThatDoesNotFitFailsTheLoadOnEveryInstance() {
        // instance 2's pool (4 MiB) cannot hold its third of 200k edges (out and in nbr units: 2 x 16 bytes
        // each, plus the edge table): its put fails, and what instances 0 and 1 wrote is deleted
        TestGraphs.Graph g = TestGraphs.random(20_000, 200_000, 5);
        VineyardException e = assertThrows(VineyardException.class, () -> g.loader(allocator, owned).load(clients));
        assertInstanceOf(VineyardException.NotEnoughMemory.class, e, e.toString());
        for (int i = 0; i < clients.size(); i++) {
            clients.get(i).flushReleases();
            assertEquals(baselines.get(i), clients.get(i).status().memoryUsage(), "nothing left on instance " + i);
            IpcClient c = clients.get(i);
            // each instance deleted its own objects; the others' replicas apply those deletes from etcd
            assertTrue(eventually(() -> c.list("vineyard::Arrow*", 10).isEmpty()), "no fragment or vertex map on instance " + i
                    + ": " + c.list("vineyard::Arrow*", 10));
        }
    }

    /** Waits (at most 10 s) for another process's replica to reach a state there is no event for. */
    private static boolean eventually(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Test
    void aWorkerWithTheWrongRankIsRefusedAndTheOthersFail() throws Exception {
        TestGraphs.Graph g = TestGraphs.handMade(i -> i);
        List<Client> two = List.of(clients.get(0), clients.get(1));
        ObjectId id = g.loader(allocator, owned).load(two);
        try (FragmentGroup a = clients.get(0).get(id, FragmentGroup.class);
             FragmentGroup b = clients.get(1).get(id, FragmentGroup.class)) {
            List<Exchange> ex = Exchange.inProcess(2);
            // the endpoints swapped: each worker is refused at once, neither waits for the other
            VineyardException wrong = assertThrows(VineyardException.class, () -> PageRank.runWorker(a, ex.get(1), 0.85, 5));
            assertTrue(wrong.getMessage().contains("rank 1"), wrong.getMessage());
            assertThrows(VineyardException.class, () -> PageRank.runWorker(b, ex.get(0), 0.85, 5));
            assertThrows(VineyardException.class, () -> Bfs.runWorker(b, Exchange.inProcess(1).getFirst(), "person", 1L));
        }
        GraphLoader.delete(two, id);
    }

    @Test
    void theClusterExampleOfDocsGraphMdRuns() throws Exception {
        DocSnippets.assertShown(DocSnippets.repo().resolve("docs/graph.md"), 1,
                DocSnippets.repo().resolve("vineyard-graph/src/test/java/io/vineyard/graph/DistributedGraphTest.java"));
        TestGraphs.Graph graph = TestGraphs.random(50, 200, 3);
        graph.edges().addFirst(new TestGraphs.E("_", new TestGraphs.V("_", 1L), new TestGraphs.V("_", 3L), -1)); // the BFS source
        VectorSchemaRoot edges = TestGraphs.edgeTable(allocator, graph.edges());
        owned.add(edges);
        String SOCKET_A = daemons.get(0).socket();
        String SOCKET_B = daemons.get(1).socket();
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            // ---- docs/graph.md, across a cluster ----
            try (IpcClient a = IpcClient.connect(SOCKET_A);
                 IpcClient b = IpcClient.connect(SOCKET_B)) {
                List<IpcClient> clients = List.of(a, b);
                ObjectId id = GraphLoader.builder().edges(edges).load(clients);             // fragment 0 on a, 1 on b
                List<Exchange> exchange = Exchange.inProcess(clients.size());              // one endpoint per worker
                List<Thread> workers = new ArrayList<>();
                for (IpcClient c : clients) {                                              // one worker per instance
                    workers.add(Thread.ofPlatform().start(() -> {
                        try (FragmentGroup g = c.get(id, FragmentGroup.class)) {           // its own fragment, in place
                            Exchange mine = exchange.get(g.workerIndex());
                            PageRank.WorkerResult ranks = PageRank.runWorker(g, mine, 0.85, 10);
                            Bfs.WorkerResult hops = Bfs.runWorker(g, mine, GraphLoader.DEFAULT_LABEL, 1L);
                            for (Object v : g.localFragments().getFirst().vertices(GraphLoader.DEFAULT_LABEL)) {
                                System.out.println(v + ": rank " + ranks.rank("_", v) + ", hops " + hops.depth("_", v)
                                        + ", out " + g.outNeighbors("_", v));
                            }
                        }
                    }));
                }
                for (Thread t : workers) {
                    t.join();
                }
                GraphLoader.delete(clients, id);                    // each instance deletes its own fragments
            }
            // ---- end ----
        } finally {
            System.setOut(stdout);
        }
        Map<TestGraphs.V, Double> ranks = TestGraphs.pageRank(graph, true, 0.85, 10);
        Map<TestGraphs.V, Integer> hops = TestGraphs.bfs(graph, true, new TestGraphs.V("_", 1L));
        List<String> lines = printed.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(graph.allVertices().size(), lines.size(), "one line per vertex, from its own worker");
        for (String line : lines) {
            TestGraphs.V v = new TestGraphs.V("_", Long.parseLong(line.substring(0, line.indexOf(':'))));
            double rank = Double.parseDouble(line.substring(line.indexOf("rank ") + 5, line.indexOf(',')));
            assertEquals(ranks.get(v), rank, 1e-12, line);
            assertTrue(line.contains("hops " + hops.getOrDefault(v, -1) + ","), line);
        }
        for (int i = 0; i < 2; i++) {
            clients.get(i).flushReleases();
            assertEquals(baselines.get(i), clients.get(i).status().memoryUsage(), "usage of instance " + i + " back to baseline");
        }
    }

    @Test
    void twoClientsOfOneInstanceAreRefused() {
        try (IpcClient again = IpcClient.connect(daemons.getFirst().socket())) {
            VineyardException e = assertThrows(VineyardException.Invalid.class,
                    () -> TestGraphs.handMade(i -> i).loader(allocator, owned).load(List.of(clients.getFirst(), again)));
            assertTrue(e.getMessage().contains("one client per daemon"), e.getMessage());
        }
    }
}
