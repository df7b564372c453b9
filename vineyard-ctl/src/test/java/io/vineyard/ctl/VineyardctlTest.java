package io.vineyard.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every vineyardctl verb end to end against a real vineyardd in its own process: stdout, stderr and exit
 * codes. Most command lines run in this JVM through {@link Vineyardctl#run} (the same code as the
 * launcher's, with captured streams); those that need a process of their own (the environment, the exit
 * status of {@code main}, a terminal for the progress bar) start one on the test classpath.
 */
class VineyardctlTest {
    private DaemonProcess daemon;
    private long baseline;

    record Result(int exit, String out, String err) {
        List<String> lines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\n"));
        }

        JsonNode json() throws IOException {
            return Json.MAPPER.readTree(out);
        }
    }

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=256Mi");
        baseline = daemon.memoryUsage();
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    private Result ctl(String... args) {
        return ctlOn(daemon.socket(), args);
    }

    private static Result ctlOn(String socket, String... args) {
        List<String> all = new ArrayList<>(List.of("--socket", socket));
        all.addAll(Arrays.asList(args));
        return ctlRaw(all.toArray(String[]::new));
    }

    private static Result ctlRaw(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Vineyardctl.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Exit 0 and nothing on stderr. */
    private static Result ok(Result r) {
        assertEquals(0, r.exit(), () -> "exit " + r.exit() + ", stderr: " + r.err());
        assertEquals("", r.err(), "nothing on stderr");
        return r;
    }

    /** The given exit code with exactly one line on stderr, naming the verb. */
    private static Result fails(int code, Result r, String verb, String mentions) {
        assertEquals(code, r.exit(), () -> "stdout: " + r.out() + " stderr: " + r.err());
        assertTrue(r.err().endsWith("\n") && r.err().indexOf('\n') == r.err().length() - 1,
                () -> "one line on stderr: " + r.err());
        assertTrue(r.err().startsWith(verb.isEmpty() ? "vineyardctl: " : "vineyardctl " + verb + ": "), r.err());
        assertTrue(r.err().contains(mentions), () -> "'" + mentions + "' in: " + r.err());
        assertEquals("", r.out(), "nothing on stdout");
        return r;
    }

    private static ObjectId idOf(String line) {
        assertTrue(line.matches("o[0-9a-f]{16}"), "an id: " + line);
        return ObjectId.parse(line);
    }

    @Test
    void putFileAndGetFileRoundTripByNameAndId() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(data);
        Path in = daemon.dir().resolve("in.bin");
        Files.write(in, data);

        ObjectId id = idOf(ok(ctl("put", "file", in.toString(), "--name", "data")).out().strip());
        assertEquals(List.of(id + "\tvineyard::Tensor<uint8_t>\t" + data.length + "\tdata"), ok(ctl("ls", "objects")).lines());

        Path byName = daemon.dir().resolve("by-name.bin");
        assertEquals(List.of(byName + "\t" + data.length), ok(ctl("get", "file", "data", byName.toString())).lines());
        assertArrayEquals(data, Files.readAllBytes(byName));
        Path byId = daemon.dir().resolve("by-id.bin");
        Files.write(byId, new byte[] {1, 2, 3});   // replaced whole
        ok(ctl("get", "file", id.toString(), byId.toString()));
        assertArrayEquals(data, Files.readAllBytes(byId));
        try (var files = Files.list(daemon.dir())) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no partial file left");
        }

        // PATH - : the bytes on stdout, nothing else
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        ByteArrayOutputStream rawErr = new ByteArrayOutputStream();
        assertEquals(0, Vineyardctl.run(new String[] {"--socket", daemon.socket(), "get", "file", "data", "-"},
                new PrintStream(raw, true), new PrintStream(rawErr, true), Map.of()));
        assertArrayEquals(data, raw.toByteArray());
        assertEquals(0, rawErr.size());

        // the stored object is what our Python client writes for a numpy uint8 array
        JsonNode o = ok(ctl("get", "object", "data", "--json")).json();
        assertEquals(id.toString(), o.get("id").asText());
        assertEquals("vineyard::Tensor<uint8_t>", o.get("typename").asText());
        assertEquals("[\"data\"]", o.get("names").toString());
        assertEquals("[" + data.length + "]", o.get("meta").get("shape_").asText());
        assertEquals("|u1", o.get("meta").get("value_type_meta_").asText());
        assertFalse(o.get("meta").get("transient").asBoolean(), "put file persists");
        assertFalse(o.has("value"), "the SDK reads no uint8 tensor: shown as metadata");

        ok(ctl("delete", "data"));
        assertEquals(baseline, daemon.memoryUsage(), "delete freed the blob");
    }

    @Test
    void putFileOfAnEmptyFileAndErrors() throws Exception {
        Path empty = daemon.dir().resolve("empty");
        Files.write(empty, new byte[0]);
        ObjectId id = idOf(ok(ctl("put", "file", empty.toString())).out().strip());
        Path back = daemon.dir().resolve("back");
        ok(ctl("get", "file", id.toString(), back.toString()));
        assertEquals(0, Files.size(back));

        fails(1, ctl("put", "file", daemon.dir().resolve("missing").toString()), "put file", "no such file");
        fails(1, ctl("put", "file", daemon.dir().toString()), "put file", "not a regular file");
        fails(2, ctl("put", "file", empty.toString(), "--name", ""), "put file", "--name");
        Path huge = daemon.dir().resolve("huge");
        try (var f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(300L << 20);   // sparse: larger than the 256 MiB pool
        }
        fails(1, ctl("put", "file", huge.toString()), "put file", String.valueOf(300L << 20));
        assertEquals(baseline, daemon.memoryUsage(), "a refused put holds nothing");
        fails(4, ctl("get", "file", "nope", back.toString()), "get file", "no object is named 'nope'");
        fails(1, ctl("get", "file", id.toString(), daemon.dir().resolve("no/such/dir/f").toString()), "get file", "no directory");
    }

    @Test
    void lsFiltersByGlobAndRegexAndSaysWhenTheLimitCutTheList() throws Exception {
        List<ObjectId> tensors = new ArrayList<>();
        ObjectId frame;
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            for (int i = 0; i < 3; i++) {
                tensors.add(c.putNamed(Tensor.of(new long[] {i, i + 1}), "t" + i));
            }
            frame = c.putNamed(new DataFrame(List.of("a"), List.of(Tensor.of(new double[] {0.5})), null), "frame");
        }
        List<String> all = ok(ctl("ls", "objects")).lines();
        assertEquals(5, all.size(), "3 tensors, the frame and its column: " + all);
        for (String line : all) {
            String[] cols = line.split("\t");
            assertEquals(4, cols.length, line);
            idOf(cols[0]);
        }
        assertTrue(all.contains(tensors.get(1) + "\tvineyard::Tensor<int64>\t16\tt1"), all.toString());
        assertTrue(all.stream().anyMatch(l -> l.startsWith(frame + "\tvineyard::DataFrame\t") && l.endsWith("\tframe")));
        assertTrue(all.stream().anyMatch(l -> l.contains("vineyard::Tensor<double>") && l.endsWith("\t-")), "the column has no name");

        assertEquals(4, ok(ctl("ls", "objects", "--pattern", "vineyard::Tensor*")).lines().size());
        assertEquals(1, ok(ctl("ls", "objects", "--pattern", "vineyard::Tensor<d*")).lines().size());
        List<String> byRegex = ok(ctl("ls", "objects", "--regex", "--pattern", "vineyard::(DataFrame|Tensor<double>)")).lines();
        assertEquals(2, byRegex.size(), byRegex.toString());
        assertEquals(0, ok(ctl("ls", "objects", "--pattern", "nothing::*")).lines().size());

        Result cut = ctl("ls", "objects", "--limit", "2");
        assertEquals(0, cut.exit());
        assertEquals(2, cut.lines().size());
        assertEquals("vineyardctl ls objects: listed the first 2 objects; more match (raise --limit, or --limit 0 for all)\n", cut.err());
        ok(ctl("ls", "objects", "--limit", "5"));          // exactly the limit: no note
        assertEquals(5, ok(ctl("ls", "objects", "--limit", "0")).lines().size());
        fails(2, ctl("ls", "objects", "--limit", "-1"), "ls objects", "--limit");
        fails(2, ctl("ls", "objects", "--limit", "many"), "ls objects", "many");

        JsonNode arr = ok(ctl("ls", "objects", "--json", "--pattern", "vineyard::DataFrame")).json();
        assertEquals(1, arr.size());
        assertEquals(frame.toString(), arr.get(0).get("id").asText());
        assertEquals("[\"frame\"]", arr.get(0).get("names").toString());

        List<String> blobs = ok(ctl("ls", "blobs")).lines();
        assertEquals(4, blobs.size(), "one blob per tensor: " + blobs);
        assertTrue(blobs.stream().allMatch(l -> l.matches("o[0-9a-f]{16}\t(16|8)")), blobs.toString());
        Result blobsCut = ctl("ls", "blobs", "--limit", "3");
        assertEquals(3, blobsCut.lines().size());
        assertTrue(blobsCut.err().contains("listed the first 3 blobs"), blobsCut.err());
        assertEquals(4, ok(ctl("ls", "blobs", "--json")).json().size());

        List<String> metas = ok(ctl("ls", "metadatas", "--pattern", "vineyard::Tensor<int64>")).lines();
        assertEquals(3, metas.size());
        for (String line : metas) {
            JsonNode tree = Json.MAPPER.readTree(line);
            assertEquals("vineyard::Tensor<int64>", tree.get("typename").asText());
            assertEquals("vineyard::Blob", tree.get("buffer_").get("typename").asText());
        }
        JsonNode byId = ok(ctl("ls", "metadatas", "--json")).json();
        assertEquals(5, byId.size());
        assertEquals("vineyard::DataFrame", byId.get(frame.toString()).get("typename").asText());

        assertEquals(List.of("frame\t" + frame, "t0\t" + tensors.get(0), "t1\t" + tensors.get(1), "t2\t" + tensors.get(2)),
                ok(ctl("names")).lines());
        assertEquals(List.of("t1\t" + tensors.get(1)), ok(ctl("names", "--pattern", "t1")).lines());
        assertEquals(3, ok(ctl("names", "--regex", "--pattern", "t[0-9]")).lines().size());
        assertEquals(tensors.get(2).toString(), ok(ctl("names", "--json")).json().get("t2").asText());
    }

    @Test
    void getObjectMetadataAndBlobShowTheTree() throws Exception {
        ObjectId id;
        ObjectId blob;
        JsonNode sdkMeta;
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            id = c.putNamed(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), "t");
            sdkMeta = c.getMeta(id).toJson();
            blob = c.getMeta(id).member("buffer_").id();
            c.putNamed(Tensor.of(DType.UINT64, MemorySegment.ofArray(new long[] {-1L, 7}), Tensor.Order.C, 2), "u");
        }
        assertEquals("[18446744073709551615,7]",
                ok(ctl("get", "object", "u", "--json")).json().get("value").get("head").toString(), "unsigned");
        List<String> tree = ok(ctl("get", "object", "t")).lines();
        assertEquals(id + " vineyard::Tensor<double> 48 B name=t", tree.get(0));
        assertTrue(tree.contains("├── shape_: [2,3]"), tree.toString());
        assertTrue(tree.stream().anyMatch(l -> l.matches("[├└]── buffer_: " + blob + " vineyard::Blob 48 B")), tree.toString());
        assertTrue(tree.get(tree.size() - 1).startsWith("value: {"), tree.toString());

        JsonNode o = ok(ctl("get", "object", id.toString(), "--json")).json();
        assertEquals("[2,3]", o.get("value").get("shape").toString());
        assertEquals("[1.0,2.0,3.0,4.0,5.0,6.0]", o.get("value").get("head").toString());
        assertEquals("double", o.get("value").get("dtype").asText());
        assertEquals(sdkMeta, o.get("meta"));

        assertEquals(sdkMeta, ok(ctl("get", "metadata", "t", "--json")).json());
        assertEquals(tree.subList(0, tree.size() - 1), ok(ctl("get", "metadata", "t")).lines(), "object = metadata + value");

        JsonNode b = ok(ctl("get", "blob", blob.toString(), "--json")).json();
        assertEquals(48, b.get("size").asLong());
        assertEquals("000000000000f03f", b.get("head_hex").asText().substring(0, 16), "1.0 little-endian");
        List<String> dump = ok(ctl("get", "blob", blob.toString(), "--bytes", "20")).lines();
        assertEquals(blob + " vineyard::Blob 48 B", dump.get(0));
        assertEquals(3, dump.size(), "16 + 4 bytes: " + dump);
        assertTrue(dump.get(1).startsWith("  00000000  00 00 00 00 00 00 f0 3f"), dump.get(1));
        assertEquals(ok(ctl("get", "blob", blob.toString(), "--json")).out(), ok(ctl("get", "object", blob.toString(), "--json")).out(),
                "get object of a blob id shows the blob");

        fails(4, ctl("get", "object", "nope"), "get object", "no object is named 'nope'");
        fails(4, ctl("get", "metadata", "o0000000000000001"), "get metadata", "o0000000000000001");
        fails(4, ctl("get", "object", "o0000000000000001"), "get object", "o0000000000000001");
        fails(4, ctl("get", "blob", "o8000000000000001"), "get blob", "o8000000000000001");
        fails(2, ctl("get", "blob", id.toString()), "get blob", "is an object, not a blob");
        fails(2, ctl("get", "object"), "get object", "ID|NAME");
    }

    @Test
    void deleteKeepsSharedMembersUnlessForcedAndGoesDeepWhenAsked() throws Exception {
        ObjectId frame;
        ObjectId column;
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            frame = c.putNamed(new DataFrame(List.of("a", "b"),
                    List.of(Tensor.of(new long[] {1, 2}), Tensor.of(new double[] {0.5, 1.5})), null), "frame");
            column = c.getMeta(frame).member("__values_-value-0").id();
        }
        fails(1, ctl("delete", column.toString()), "delete", "another object uses it");
        assertTrue(ok(ctl("ls", "objects")).out().contains(column.toString()), "kept");

        // without --deep: the frame goes, its member tensors stay
        assertEquals(List.of(frame.toString()), ok(ctl("delete", "frame")).lines());
        List<String> left = ok(ctl("ls", "objects")).lines();
        assertEquals(2, left.size(), left.toString());
        fails(4, ctl("delete", "frame"), "delete", "no object is named 'frame'");
        fails(4, ctl("delete", frame.toString()), "delete", frame + " does not exist");

        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            frame = c.putNamed(new DataFrame(List.of("x"), List.of(Tensor.of(new long[] {7})), null), "frame2");
            column = c.getMeta(frame).member("__values_-value-0").id();
        }
        // --force on a member deletes the frame that uses it too
        ok(ctl("delete", "--force", column.toString()));
        assertFalse(ok(ctl("ls", "objects")).out().contains(frame.toString()), "the parent went with --force");

        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            frame = c.putNamed(new DataFrame(List.of("y"), List.of(Tensor.of(new long[] {8})), null), "frame3");
        }
        ok(ctl("delete", "--deep", "frame3"));
        assertEquals(2, ok(ctl("ls", "objects")).lines().size(), "--deep took frame3's column too");
        List<String> rest = new ArrayList<>();
        for (String line : ok(ctl("ls", "objects")).lines()) {
            rest.add(line.split("\t")[0]);
        }
        List<String> args = new ArrayList<>(List.of("delete"));
        args.addAll(rest);
        assertEquals(rest, ok(ctl(args.toArray(String[]::new))).lines(), "several at once");
        assertEquals(baseline, daemon.memoryUsage());
        fails(2, ctl("delete"), "delete", "ID|NAME");
    }

    @Test
    void statReportsUsageConnectionsAndRequestRates() throws Exception {
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            c.putNamed(Tensor.of(new double[] {1, 2, 3}), "x");
            // earlier connections (the baseline's, a previous stat's) leave the count when the daemon sees them go
            JsonNode s = ok(ctl("stat", "--json")).json();
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                 s.get("ipc_connections").asLong() != 2 && System.nanoTime() < deadline; ) {
                Thread.sleep(20);
                s = ok(ctl("stat", "--json")).json();
            }
            assertEquals(daemon.socket(), s.get("socket").asText());
            assertEquals(24, s.get("memory_usage").asLong() - baseline);
            assertEquals(256L << 20, s.get("memory_limit").asLong());
            assertEquals(2, s.get("ipc_connections").asLong(), "c and the stat's own");
            assertEquals(0, s.get("deferred_free_bytes").asLong());
            assertTrue(s.get("extensions").toString().contains("server_stats_request"));
            assertTrue(s.get("requests").get("put_object_request").get("count").asLong() >= 1);
            // a reader holds the blob while its object is deleted: deferred bytes
            try (Tensor held = c.get("x", Tensor.class)) {
                try (IpcClient other = IpcClient.connect(daemon.socket())) {
                    other.delete(other.getName("x"));
                }
                assertEquals(24, ok(ctl("stat", "--json")).json().get("deferred_free_bytes").asLong());
                assertEquals(3, held.shape()[0]);
            }
        }
        List<String> lines = ok(ctl("stat")).lines();
        assertTrue(lines.contains("memory_limit\t" + (256L << 20)), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.matches("request\tput_object_request\t1\t[0-9.]+")), lines.toString());

        JsonNode rated = ok(ctl("stat", "--json", "--interval", "0.2")).json();
        assertTrue(rated.get("requests").get("instance_status_request").has("per_second"), rated.toString());
        assertTrue(ok(ctl("stat", "--interval", "0.1")).lines().stream()
                .anyMatch(l -> l.matches("request\tregister_request\t[0-9]+\t[0-9.]+\t[0-9.]+")));
        fails(2, ctl("stat", "--interval", "-1"), "stat", "--interval");

        List<String> cluster = ok(ctl("cluster-info")).lines();
        assertEquals(1, cluster.size());
        String[] cols = cluster.get(0).split("\t");
        assertEquals(9, cols.length, cluster.get(0));
        assertEquals("i0", cols[0]);
        assertEquals(daemon.socket(), cols[2]);
        assertEquals(List.of(String.valueOf(baseline), String.valueOf(256L << 20), "0"), List.of(cols[4], cols[5], cols[6]));
        JsonNode i0 = ok(ctl("cluster-info", "--json")).json().get("i0");
        assertEquals(256L << 20, i0.get("memory_limit").asLong());
        assertEquals(daemon.socket(), i0.get("ipc_socket").asText());
    }

    @Test
    void withExtensionsOffStatAsksInstanceStatusOnlyAndTheOtherVerbsUseStandardRequests() throws Exception {
        daemon.close();
        daemon = DaemonProcess.start("--size=256Mi", "--noextensions");
        // an object with one blob, made with vineyard's own requests only (the SDK's puts use put_object on this branch)
        ObjectId id;
        ObjectId blob;
        try (var conn = daemon.connect()) {
            var created = conn.request(Json.object().put("type", "create_buffer_request").put("size", 5));
            blob = new ObjectId(Json.readU64(created.get("id"), "id"));
            conn.blobSegment(created.get("created")).copyFrom(MemorySegment.ofArray("hello".getBytes(StandardCharsets.UTF_8)));
            var seal = Json.object().put("type", "seal_request");
            seal.set("object_id", Json.u64(blob.value()));
            conn.request(seal);
            var create = Json.object().put("type", "create_data_request");
            var content = create.putObject("content").put("typename", "vineyard::Demo").put("nbytes", 5).put("answer", 42);
            content.putObject("buffer_").put("id", blob.toString()).put("typename", "vineyard::Blob")
                    .put("length", 5).put("nbytes", 5).put("instance_id", 0).put("transient", true);
            id = new ObjectId(Json.readU64(conn.request(create).get("id"), "id"));
            var persist = Json.object().put("type", "persist_request");
            persist.set("id", Json.u64(id.value()));
            conn.request(persist);
            var name = Json.object().put("type", "put_name_request").put("name", "demo");
            name.set("object_id", Json.u64(id.value()));
            conn.request(name);
        }
        JsonNode s = ok(ctl("stat", "--json")).json();
        assertEquals("[]", s.get("extensions").toString());
        assertTrue(s.has("memory_usage") && s.has("ipc_connections"));
        assertFalse(s.has("requests") || s.has("deferred_free_bytes"), "no server_stats: " + s);
        List<String> lines = ok(ctl("stat")).lines();
        assertTrue(lines.contains("extensions\t-"), lines.toString());
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("request\t")), lines.toString());

        assertEquals(List.of(id + "\tvineyard::Demo\t5\tdemo"), ok(ctl("ls", "objects")).lines());
        assertEquals(List.of(blob + "\t5"), ok(ctl("ls", "blobs")).lines());
        assertEquals(List.of("demo\t" + id), ok(ctl("names")).lines());
        assertEquals(42, ok(ctl("get", "metadata", "demo", "--json")).json().get("answer").asInt());
        assertTrue(ok(ctl("get", "metadata", "demo")).lines().contains("├── answer: 42"));
        JsonNode o = ok(ctl("get", "object", "demo", "--json")).json();
        assertEquals(blob.toString(), o.get("meta").get("buffer_").get("id").asText());
        assertEquals("68656c6c6f", ok(ctl("get", "blob", blob.toString(), "--json")).json().get("head_hex").asText());
        Path out = daemon.dir().resolve("demo.txt");
        ok(ctl("get", "file", "demo", out.toString()));
        assertEquals("hello", Files.readString(out));
        String[] cluster = ok(ctl("cluster-info")).out().strip().split("\t");
        assertEquals("-", cluster[6], "no deferred bytes without server_stats");
        assertEquals("5", cluster[4], "memory_usage from instance_status");
        ok(ctl("delete", "demo"));
        assertEquals(0, ok(ctl("ls", "objects")).lines().size());
        assertEquals(0, ok(ctl("ls", "blobs")).lines().size(), "the blob went with its last parent");
    }

    @Test
    void getObjectOfAnObjectOurPythonClientPutShowsItsMetadata() throws Exception {
        String script = String.join("\n",
                "import sys, vineyard_java as vj",
                "with vj.connect(sys.argv[1]) as c:",
                "    w = c.create_blob(5)",
                "    w.buffer[:] = b'hello'",
                "    w.seal()",
                "    m = vj.ObjectMeta('python::Greeting')",
                "    m['language'] = 'en'",
                "    m.add_member('text_', w)",
                "    c.create_metadata(m)",
                "    c.persist(m.id)",
                "    c.put_name(m.id, 'greeting')",
                "    print(m.id)");
        ProcessBuilder pb = new ProcessBuilder("python3", "-c", script, daemon.socket()).redirectErrorStream(true);
        Path python = DocSnippets.repo().resolve("python");   // the package's directory, or its src/ layout
        pb.environment().put("PYTHONPATH", python + ":" + python.resolve("src"));
        Process p = pb.start();
        p.getOutputStream().close();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), printed);

        JsonNode o = ok(ctl("get", "object", "greeting", "--json")).json();
        assertEquals(printed, o.get("id").asText());
        assertEquals("python::Greeting", o.get("typename").asText());
        assertFalse(o.has("value"), "a type the SDK does not know: metadata only");
        assertEquals("en", o.get("meta").get("language").asText());
        assertEquals(5, o.get("meta").get("text_").get("length").asLong());
        List<String> tree = ok(ctl("get", "object", "greeting")).lines();
        assertTrue(tree.get(0).startsWith(printed + " python::Greeting"), tree.toString());
        assertTrue(tree.stream().anyMatch(l -> l.contains("text_: o") && l.endsWith("vineyard::Blob 5 B")), tree.toString());

        Path out = daemon.dir().resolve("greeting.txt");
        ok(ctl("get", "file", "greeting", out.toString()));
        assertEquals("hello", Files.readString(out), "its one blob");
    }

    @Test
    void everyVerbHasHelpAndUsageErrorsExitTwo() {
        for (String[] verb : List.of(new String[] {}, new String[] {"ls"}, new String[] {"ls", "objects"},
                new String[] {"ls", "blobs"}, new String[] {"ls", "metadatas"}, new String[] {"get"},
                new String[] {"get", "object"}, new String[] {"get", "metadata"}, new String[] {"get", "blob"},
                new String[] {"get", "file"}, new String[] {"put"}, new String[] {"put", "file"},
                new String[] {"delete"}, new String[] {"stat"}, new String[] {"cluster-info"}, new String[] {"names"})) {
            List<String> args = new ArrayList<>(Arrays.asList(verb));
            args.add("--help");
            Result r = ctlRaw(args.toArray(String[]::new));
            assertEquals(0, r.exit(), String.join(" ", args));
            assertTrue(r.out().contains("Usage: vineyardctl" + (verb.length == 0 ? " " : " " + String.join(" ", verb) + " ")),
                    r.out());
            assertEquals("", r.err());
        }
        assertTrue(ok(ctlRaw("--help")).out().contains("4   no such object, name or blob"), "exit codes listed");
        assertTrue(ok(ctlRaw("--version")).out().startsWith("vineyardctl "));
        fails(2, ctlRaw("frobnicate"), "", "frobnicate");
        fails(2, ctlRaw("ls"), "ls", "Missing required subcommand");
        fails(2, ctl("ls", "objects", "--bogus"), "ls objects", "--bogus");
        fails(2, ctl("get", "file", "x"), "get file", "PATH");
    }

    @Test
    void noDaemonIsAConnectionError() {
        String missing = daemon.dir().resolve("nobody.sock").toString();
        for (String[] verb : List.of(new String[] {"stat"}, new String[] {"ls", "objects"}, new String[] {"get", "object", "x"})) {
            Result r = ctlOn(missing, verb);
            fails(3, r, String.join(" ", Arrays.asList(verb).subList(0, Math.min(2, verb.length))), missing);
            assertTrue(r.err().contains("--socket PATH or set VINEYARD_IPC_SOCKET"), r.err());
        }
    }

    // ---- in a process of its own: main's exit status, the environment, a terminal ----------------------

    private Process launch(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "io.vineyard.ctl.Vineyardctl"));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("VINEYARD_IPC_SOCKET");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    private static Result finish(Process p) throws Exception {
        var err = p.getErrorStream();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String e = new String(err.readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "vineyardctl ended");
        return new Result(p.exitValue(), out, e);
    }

    @Test
    void mainTakesTheSocketFromTheEnvironmentAndExitsWithTheVerbsCode() throws Exception {
        Result fromEnv = ok(finish(launch(Map.of("VINEYARD_IPC_SOCKET", daemon.socket()), "stat")));
        assertTrue(fromEnv.lines().contains("socket\t" + daemon.socket()), fromEnv.out());
        // --socket wins over the environment, also after the verb
        Result flag = finish(launch(Map.of("VINEYARD_IPC_SOCKET", "/nonexistent.sock"), "stat", "--socket", daemon.socket()));
        ok(flag);
        fails(4, finish(launch(Map.of("VINEYARD_IPC_SOCKET", daemon.socket()), "get", "object", "missing")),
                "get object", "missing");
        // no flag, no environment: the daemon's default socket under XDG_RUNTIME_DIR
        Path runtime = Files.createTempDirectory(daemon.dir(), "xdg");
        Result byDefault = finish(launch(Map.of("XDG_RUNTIME_DIR", runtime.toString()), "stat"));
        fails(3, byDefault, "stat", runtime.resolve("vineyard/vineyard.sock").toString());
    }

    @Test
    void theProgressBarIsDrawnOnlyWhenStderrIsATerminal() throws Exception {
        Path in = daemon.dir().resolve("big.bin");
        Files.write(in, new byte[40 << 20]);
        // a pipe: nothing but the id
        Result piped = ok(finish(launch(Map.of(), "--socket", daemon.socket(), "put", "file", in.toString())));
        idOf(piped.out().strip());

        // a terminal (script(1) gives the command a pty): the bar, ending at 100%
        String cmd = String.join(" ", List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", "'" + System.getProperty("java.class.path") + "'",
                "io.vineyard.ctl.Vineyardctl", "--socket", daemon.socket(), "put", "file", in.toString(), "--name", "big"));
        Process p = new ProcessBuilder("script", "-qec", cmd, "/dev/null").redirectErrorStream(true).start();
        p.getOutputStream().close();
        String tty = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), tty);
        assertTrue(tty.contains("\rput big.bin [") && tty.contains("] 100% of 40.0 MiB"), tty);

        Path out = daemon.dir().resolve("big.out");
        Result got = ok(finish(launch(Map.of(), "--socket", daemon.socket(), "get", "file", "big", out.toString())));
        assertEquals(out + "\t" + (40 << 20) + "\n", got.out());
        assertEquals(40 << 20, Files.size(out));
    }
}
