package io.vineyard.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.VineyardObject;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.GlobalDataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Any object tree to a directory in vineyard's layout and back: same metadata ids aside, byte-identical blobs. */
class SerializeTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    @TempDir
    Path dir;

    private static final java.util.Set<String> IDS = java.util.Set.of("id", "signature", "instance_id", "transient", "__timestamp");

    /** The metadata tree without ids, signatures, instance ids, creation times and transient flags; blobs by their bytes' SHA-256. */
    static JsonNode shape(VineyardObject o, ObjectMeta m) {
        ObjectNode out = Json.object();
        TreeMap<String, JsonNode> sorted = new TreeMap<>();
        Map<String, ObjectMeta> members = m.members();
        for (String k : m.keys()) {
            if (IDS.contains(k)) {
                continue;
            }
            ObjectMeta member = members.get(k);
            if (member == null) {
                sorted.put(k, m.value(k));
            } else if (member.isBlob()) {
                long len = member.getLong("length", member.nbytes());
                sorted.put(k, Json.NODES.textNode(len == 0 ? "" : sha256(o.blob(member).toByteArray())));
            } else {
                sorted.put(k, shape(o, member));
            }
        }
        sorted.forEach(out::set);
        return out;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b)) + "/" + b.length;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode shapeOf(ObjectId id) {
        try (VineyardObject o = vineyard.client().getObject(id)) {
            return shape(o, o.meta());
        }
    }

    private void roundTrip(ObjectId id, Map<String, ?> options) {
        Path target = dir.resolve("obj-" + id);
        VineyardIO.serialize(vineyard.client(), id, target.toString(), options);
        assertTrue(Files.isRegularFile(target.resolve("1-0/metadata.json")), "vineyard's layout: DIR/1-0/metadata.json");
        ObjectId back = VineyardIO.deserialize(vineyard.client(), target.toString(), Map.of());
        assertNotEquals(id, back);
        assertEquals(shapeOf(id), shapeOf(back));
    }

    @Test
    void tensorsTablesAndGlobalFramesComeBackIdenticalIdsAside() throws IOException {
        IpcClient c = vineyard.client();
        double[] values = new Random(7).doubles(100_000).toArray();
        roundTrip(c.put(Tensor.of(values, 1000, 100)), Map.of());
        roundTrip(c.put(Tensor.of(values, 1000, 100)), Map.of("compression", "none"));

        Path csv = dir.resolve("t.csv");
        Files.writeString(csv, ReadWriteTest.csv(',', true));
        roundTrip(VineyardIO.read(c, csv.toString(), Map.of("batch_rows", 400)), Map.of());

        ObjectId p0 = c.put(new DataFrame(List.of("a", "b"), List.of(Tensor.of(new long[] {1, 2, 3}), Tensor.of(new double[] {.5, .25, .125})), null), PutOptions.persistent());
        ObjectId p1 = c.put(new DataFrame(List.of("a", "b"), List.of(Tensor.of(new long[] {4}), Tensor.of(new double[] {8})), null), PutOptions.persistent());
        ObjectId global = c.put(new GlobalDataFrame(2, 1, List.of(p0, p1)), PutOptions.persistent());
        assertTrue(c.getMeta(global).isGlobal());
        Path target = dir.resolve("global");
        VineyardIO.serialize(c, global, target.toString(), Map.of());
        ObjectId back = VineyardIO.deserialize(c, target.toString(), Map.of());
        assertTrue(c.getMeta(back).isGlobal());
        assertEquals(shapeOf(global), shapeOf(back));
    }

    @Test
    void theLayoutIsVineyards() throws IOException {
        ObjectId id = vineyard.client().put(Tensor.of(new double[] {1, 2, 3}, 3));
        Path target = dir.resolve("t");
        VineyardIO.serialize(vineyard.client(), id, target.toString(), Map.of("compression", "none"));
        JsonNode root = Json.MAPPER.readTree(Files.readString(target.resolve("1-0/metadata.json")));
        assertEquals("vineyard::Tensor<double>", root.get("__typename").asText());
        assertEquals("", root.get("__path").asText());
        assertFalse(root.get("__global").asBoolean());
        JsonNode blobMeta = Json.MAPPER.readTree(Files.readString(target.resolve("1-0/buffer_/blob.meta.json")));
        assertEquals("buffer_/blob", blobMeta.get("__path").asText());
        assertEquals(24, blobMeta.get("length").asLong());
        byte[] raw = Files.readAllBytes(target.resolve("1-0/buffer_/blob"));
        assertEquals(24, raw.length);
        assertEquals(1.0, java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).getDouble(0));
        // zstd (vineyard's default): a zstd frame, magic 28 b5 2f fd
        Path z = dir.resolve("z");
        VineyardIO.serialize(vineyard.client(), id, z.toString(), Map.of());
        assertArrayEquals(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd},
                java.util.Arrays.copyOf(Files.readAllBytes(z.resolve("1-0/buffer_/blob")), 4));
        assertTrue(Json.MAPPER.readTree(Files.readString(z.resolve("1-0/buffer_/blob.meta.json"))).get("__options").asText().contains("zstd"));
    }

    @Test
    void aTruncatedBlobIsMalformedAndNothingIsLeft() throws IOException {
        IpcClient c = vineyard.client();
        ObjectId id = c.put(Tensor.of(new Random(1).doubles(50_000).toArray(), 50_000));
        Path target = dir.resolve("t");
        VineyardIO.serialize(c, id, target.toString(), Map.of("compression", "none"));
        c.delete(id);
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after deleting the original");
        Path blob = target.resolve("1-0/buffer_/blob");
        byte[] bytes = Files.readAllBytes(blob);
        Files.write(blob, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        IoException.Malformed e = assertThrows(IoException.Malformed.class, () -> VineyardIO.deserialize(c, target.toString(), Map.of()));
        assertTrue(e.position().startsWith("buffer_/blob"), e.position());
        assertEquals(List.of(), c.list("*", 100));
        vineyard.assertUsageReturnsTo(vineyard.baseline(), "after the failed deserialize");
    }

    @Test
    void aNonEmptyTargetIsRefusedAndAMissingSourceIsNotFound() throws IOException {
        IpcClient c = vineyard.client();
        ObjectId id = c.put(Tensor.of(new double[] {1}, 1));
        Path busy = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(busy.resolve("keep.txt"), "mine");
        assertThrows(IoException.class, () -> VineyardIO.serialize(c, id, busy.toString(), Map.of()));
        assertEquals("mine", Files.readString(busy.resolve("keep.txt")));
        assertThrows(IoException.NotFound.class, () -> VineyardIO.deserialize(c, dir.resolve("none").toString(), Map.of()));
    }
}
