package io.vineyard.client.sdk;

import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.Client;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.RpcClient;
import io.vineyard.client.VineyardObject;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.Array;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.GlobalTensor;
import io.vineyard.client.types.Scalar;
import io.vineyard.client.types.Sequence;
import io.vineyard.client.types.Tensor;
import io.vineyard.client.types.Tuple;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SDK against a real daemon: built-in types round trip, round trips on the wire, holds and leaks. */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class SdkTest {
    private DaemonProcess daemon;
    private IpcClient client;
    private long baseline;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=512Mi");
        client = IpcClient.connect(daemon.socket().toString());
        baseline = client.status().memoryUsage();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (client != null && !client.isClosed()) {
                client.close();
            }
            try (IpcClient check = IpcClient.connect(daemon.socket().toString())) {
                for (ObjectMeta m : check.list("*", 10_000)) {
                    if (!m.isBlob()) {
                        check.delete(m.id());
                    }
                }
                assertEquals(baseline, check.status().memoryUsage(), "pool usage back to baseline after deleting everything");
            }
        } finally {
            daemon.close();
        }
    }

    @Test
    void tensorRoundTripsWithVineyardKeys() {
        double[] values = {1, 2, 3, 4, 5, 6};
        ObjectId id = client.put(Tensor.of(values, 2, 3));
        ObjectMeta meta = client.getMeta(id);
        assertEquals("vineyard::Tensor<double>", meta.typename());
        assertEquals("double", meta.getString("value_type_"));
        assertEquals("[2,3]", meta.getString("shape_"));
        assertEquals("[]", meta.getString("partition_index_"));
        assertEquals("\"C\"", meta.getString("order_"));
        assertEquals(48, meta.nbytes());
        assertEquals("vineyard::Blob", meta.member("buffer_").typename());
        try (Tensor t = client.get(id, Tensor.class)) {
            assertEquals(DType.DOUBLE, t.dtype());
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertEquals(6.0, t.getDouble(new long[] {1, 2}));
            assertTrue(t.data().isReadOnly());
            assertTrue(client.isInSharedMemory(t.data().address(), t.data().byteSize()), "no copy: the view is in the pool");
        }
        client.delete(id);
    }

    @Test
    void everyElementTypeAndFortranOrder() {
        for (DType d : DType.values()) {
            BlobWriter w = client.createBlob(4L * d.byteSize());
            for (int i = 0; i < 4; i++) {
                switch (d.byteSize()) {
                    case 4 -> w.segment().setAtIndex(ValueLayout.JAVA_INT, i, d == DType.FLOAT ? Float.floatToIntBits(i) : i);
                    default -> w.segment().setAtIndex(ValueLayout.JAVA_LONG, i, d == DType.DOUBLE ? Double.doubleToLongBits(i) : i);
                }
            }
            ObjectId id = client.put(Tensor.of(d, w, Tensor.Order.F, 2, 2));
            assertThrows(IllegalStateException.class, () -> w.segment().get(ValueLayout.JAVA_BYTE, 0), "sealed: writable view gone");
            assertEquals("vineyard::Tensor<" + d.cppName() + ">", client.getMeta(id).typename());
            try (Tensor t = client.get(id, Tensor.class)) {
                assertEquals(d, t.dtype());
                assertEquals(Tensor.Order.F, t.order());
                assertEquals(1.0, t.getDouble(new long[] {1, 0}));
                assertEquals(2.0, t.getDouble(new long[] {0, 1}));
            }
            client.delete(id);
        }
    }

    /**
     * With extensions a put and name is one request and a get by name one; with vineyard's standard
     * requests (a daemon without extensions) 4 (seal, create_data, persist, put_name; the release is
     * queued for the next request) and 3 (get_name, get_data, get_buffers).
     */
    @Test
    void putAndNameIsOneRequestGetByNameIsOne() {
        boolean ext = client.usesExtensions();
        assertEquals(DaemonProcess.suiteHasExtensions(), ext, "extensions used exactly when the daemon has them");
        BlobWriter w = client.createBlob(8 * 1024);
        w.segment().fill((byte) 7);
        Tensor t = Tensor.of(DType.INT64, w, Tensor.Order.C, 1024);
        long before = client.requestCount();
        ObjectId id = client.putNamed(t, "counted");
        assertEquals(ext ? 1 : 4, client.requestCount() - before,
                ext ? "put + seal + persist + name in one request" : "seal, create_data, persist, put_name");
        client.flushReleases();
        assertFalse(client.getMeta(id).isTransient());
        before = client.requestCount();
        Tensor got = client.get("counted", Tensor.class);
        assertEquals(ext ? 1 : 3, client.requestCount() - before,
                ext ? "get by name: metadata and payloads in one request" : "get_name, get_data, get_buffers");
        assertEquals(0x0707070707070707L, got.getLong(1023));
        got.close();
        client.dropName("counted");
        client.delete(id);
    }

    @Test
    void dataFrameSequenceTupleScalarArray() {
        DataFrame df = new DataFrame(List.of("a", "b"),
                List.of(Tensor.of(new long[] {1, 2, 3}), Tensor.of(new double[] {0.5, 1.5, 2.5})),
                Tensor.of(new long[] {10, 11, 12}));
        ObjectId dfId = client.put(df);
        ObjectMeta meta = client.getMeta(dfId);
        assertEquals("vineyard::DataFrame", meta.typename());
        assertEquals("[\"a\",\"b\"]", meta.getString("columns_"));
        assertEquals("\"b\"", meta.getString("__values_-key-1"));
        assertEquals(2, meta.getLong("__values_-size"));
        try (DataFrame got = client.get(dfId, DataFrame.class)) {
            assertEquals(List.of("a", "b"), got.columnNames());
            assertEquals(2.5, got.column("b").getDouble(2));
            assertEquals(12, got.index().getLong(2));
            assertEquals(3, got.rowCount());
        }

        ObjectId seqId = client.put(new Sequence(List.of(42L, "hello", Tensor.of(new int[] {7, 8}))));
        try (Sequence s = client.get(seqId, Sequence.class)) {
            assertEquals(new Scalar(42L, "int64"), s.elements().get(0));
            assertEquals("hello", ((Scalar) s.elements().get(1)).value());
            assertEquals(8, ((Tensor) s.elements().get(2)).getLong(1));
        }
        ObjectId tupleId = client.put(new Tuple(List.of(1.5, true)));
        assertEquals("vineyard::Tuple", client.getMeta(tupleId).typename());
        try (Tuple t = client.get(tupleId, Tuple.class)) {
            assertEquals(true, ((Scalar) t.elements().get(1)).value());
        }
        ObjectId scalarId = client.put(1234L);
        assertEquals("vineyard::Scalar<int64>", client.getMeta(scalarId).typename());
        assertEquals(1234L, client.get(scalarId, Long.class));

        ObjectId arrayId = client.put(Array.of(new double[] {1, 2, 3, 4, 5}));
        ObjectMeta am = client.getMeta(arrayId);
        assertEquals("vineyard::Array<double>", am.typename());
        assertEquals(5, am.getLong("size_"));
        try (Array a = client.get(arrayId, Array.class)) {
            assertEquals(5.0, a.getDouble(4));
        }
        client.delete(dfId, seqId, tupleId, scalarId, arrayId);
    }

    @Test
    void readsCppArrayMetadataShape() {
        // the metadata a C++ client writes for Array<double> (compat/transcripts/cpp_array_test.jsonl)
        BlobWriter w = client.createBlob(40);
        for (int i = 0; i < 5; i++) {
            w.segment().setAtIndex(ValueLayout.JAVA_DOUBLE, i, i * 1.5);
        }
        ObjectMeta m = new ObjectMeta("vineyard::Array<double>");
        m.addMember("buffer_", w.asMember());
        m.put("instance_id", client.instanceId()).put("nbytes", 40L).put("size_", 5L).put("transient", true);
        ObjectId id = client.putMeta(m, false, null).id();
        try (Array a = client.get(id, Array.class)) {
            assertEquals(6.0, a.getDouble(4));
        }
        client.delete(id);
    }

    @Test
    void globalTensorRefersToPartitions() {
        ObjectId p0 = client.putNamed(Tensor.of(new double[] {1, 2}).withPartitionIndex(0), "p0");
        ObjectId p1 = client.putNamed(Tensor.of(new double[] {3, 4}).withPartitionIndex(1), "p1");
        ObjectId g = client.putNamed(new GlobalTensor(new long[] {4}, new long[] {2}, List.of(p0, p1)), "global");
        ObjectMeta gm = client.getMeta(g);
        assertTrue(gm.isGlobal());
        assertEquals("vineyard::GlobalTensor", gm.typename());
        GlobalTensor got = client.get("global", GlobalTensor.class);
        assertEquals(List.of(p0, p1), got.partitions());
        try (Tensor part = client.get(got.partitions().get(1), Tensor.class)) {
            assertArrayEquals(new long[] {1}, part.partitionIndex());
            assertEquals(4.0, part.getDouble(1));
        }
        client.delete(g, p0, p1);
    }

    @Test
    void holdsAreCountedAndReleasedOnClose() throws Exception {
        ObjectId id = client.put(Tensor.of(new double[1024]));
        long used = client.status().memoryUsage();
        Tensor a = client.get(id, Tensor.class);
        Tensor b = client.get(id, Tensor.class);
        try (IpcClient other = IpcClient.connect(daemon.socket().toString())) {
            other.delete(id);
        }
        // without extensions the daemon has no server_stats to report the deleted bytes still held
        boolean measurable = DaemonProcess.suiteHasExtensions();
        if (measurable) {
            assertEquals(used, daemon.heldBytes(), "held blobs are not freed");
        }
        a.close();
        assertEquals(0.0, b.getDouble(1023), "still readable: b holds the blob");
        if (measurable) {
            assertEquals(used, daemon.heldBytes());
        }
        b.close();
        assertEquals(baseline, client.status().memoryUsage(), "freed once the last holder closed");
    }

    @Test
    void viewAfterCloseThrowsAndErrorsNameTheObject() {
        ObjectId id = client.put(Tensor.of(new double[] {1, 2, 3}));
        Tensor t = client.get(id, Tensor.class);
        VineyardException e = assertThrows(VineyardException.ObjectNotExists.class,
                () -> client.get(new ObjectId(0x1234L), Tensor.class));
        assertTrue(e.getMessage().contains("o0000000000001234"), e.getMessage());
        VineyardException byName = assertThrows(VineyardException.ObjectNotExists.class, () -> client.get("nope", Tensor.class));
        assertTrue(byName.getMessage().contains("'nope'"), byName.getMessage());
        assertThrows(VineyardException.class, () -> client.get(id, DataFrame.class));
        client.delete(id);
        client.close();
        assertThrows(IllegalStateException.class, () -> t.getDouble(0), "view of a closed client fails, no crash");
        assertThrows(VineyardException.class, () -> client.getMeta(id));
    }

    @Test
    void rpcClientPutsAndGetsOverTcp() {
        try (Client rpc = RpcClient.connect("127.0.0.1", daemon.rpcPort())) {
            ObjectId id = rpc.putNamed(new DataFrame(List.of("x"), List.of(Tensor.of(new double[] {9, 8, 7})), null), "over-tcp");
            try (DataFrame df = client.get("over-tcp", DataFrame.class)) {
                assertEquals(7.0, df.column("x").getDouble(2));
            }
            ObjectId local = client.put(Tensor.of(new long[] {5, 6, 7}));
            try (Tensor t = rpc.get(local, Tensor.class)) {
                assertEquals(7, t.getLong(2));
            }
            try (VineyardObject o = rpc.getObject("over-tcp")) {
                assertNull(o.meta().value("nope"));
            }
            rpc.dropName("over-tcp");
            rpc.delete(id, local);
        }
    }

    @Test
    void userTypeFromServiceEntry() {
        ObjectId id = client.put(new io.vineyard.client.registry.PointType.Point(1.5, -2));
        assertEquals("my::Point", client.getMeta(id).typename());
        assertEquals(new io.vineyard.client.registry.PointType.Point(1.5, -2),
                client.get(id, io.vineyard.client.registry.PointType.Point.class));
        client.delete(id);
    }

    @Test
    void blobPutAndGet() {
        BlobWriter w = client.createBlob(100);
        w.segment().fill((byte) 3);
        try (Blob sealed = w.seal()) {
            assertEquals(100, sealed.size());
            try (Blob got = client.get(sealed.id(), Blob.class)) {
                assertEquals(3, got.segment().get(ValueLayout.JAVA_BYTE, 99));
            }
            client.delete(sealed.id());
        }
    }
}
