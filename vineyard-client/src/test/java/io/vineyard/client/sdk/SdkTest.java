package io.vineyard.client.sdk;

import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.Client;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.RpcClient;
import io.vineyard.client.TestDaemon;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
    /** One daemon for the class: every test has its own client, and leaves the pool as it found it. */
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=512Mi");


    @Test
    void tensorRoundTripsWithVineyardKeys() {
        double[] values = {1, 2, 3, 4, 5, 6};
        ObjectId id = vineyard.client().put(Tensor.of(values, 2, 3));
        ObjectMeta meta = vineyard.client().getMeta(id);
        assertEquals("vineyard::Tensor<double>", meta.typename());
        assertEquals("double", meta.getString("value_type_"));
        assertEquals("[2,3]", meta.getString("shape_"));
        assertEquals("[]", meta.getString("partition_index_"));
        assertEquals("\"C\"", meta.getString("order_"));
        assertEquals(48, meta.nbytes());
        assertEquals("vineyard::Blob", meta.member("buffer_").typename());
        try (Tensor t = vineyard.client().get(id, Tensor.class)) {
            assertEquals(DType.DOUBLE, t.dtype());
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertEquals(6.0, t.getDouble(new long[] {1, 2}));
            assertTrue(t.data().isReadOnly());
            assertTrue(vineyard.client().isInSharedMemory(t.data().address(), t.data().byteSize()), "no copy: the view is in the pool");
        }
        vineyard.client().delete(id);
    }

    @Test
    void everyElementTypeAndFortranOrder() {
        for (DType d : DType.values()) {
            BlobWriter w = vineyard.client().createBlob(4L * d.byteSize());
            for (int i = 0; i < 4; i++) {
                switch (d.byteSize()) {
                    case 4 -> w.segment().setAtIndex(ValueLayout.JAVA_INT, i, d == DType.FLOAT ? Float.floatToIntBits(i) : i);
                    default -> w.segment().setAtIndex(ValueLayout.JAVA_LONG, i, d == DType.DOUBLE ? Double.doubleToLongBits(i) : i);
                }
            }
            ObjectId id = vineyard.client().put(Tensor.of(d, w, Tensor.Order.F, 2, 2));
            assertThrows(IllegalStateException.class, () -> w.segment().get(ValueLayout.JAVA_BYTE, 0), "sealed: writable view gone");
            assertEquals("vineyard::Tensor<" + d.cppName() + ">", vineyard.client().getMeta(id).typename());
            try (Tensor t = vineyard.client().get(id, Tensor.class)) {
                assertEquals(d, t.dtype());
                assertEquals(Tensor.Order.F, t.order());
                assertEquals(1.0, t.getDouble(new long[] {1, 0}));
                assertEquals(2.0, t.getDouble(new long[] {0, 1}));
            }
            vineyard.client().delete(id);
        }
    }

    /**
     * With extensions a put and name is one request and a get by name one; with vineyard's standard
     * requests (a daemon without extensions) 4 (seal, create_data, persist, put_name; the release is
     * queued for the next request) and 3 (get_name, get_data, get_buffers).
     */
    @Test
    void putAndNameIsOneRequestGetByNameIsOne() {
        boolean ext = vineyard.client().usesExtensions();
        assertEquals(DaemonProcess.suiteHasExtensions(), ext, "extensions used exactly when the daemon has them");
        BlobWriter w = vineyard.client().createBlob(8 * 1024);
        w.segment().fill((byte) 7);
        Tensor t = Tensor.of(DType.INT64, w, Tensor.Order.C, 1024);
        long before = vineyard.client().requestCount();
        ObjectId id = vineyard.client().putNamed(t, "counted");
        assertEquals(ext ? 1 : 4, vineyard.client().requestCount() - before,
                ext ? "put + seal + persist + name in one request" : "seal, create_data, persist, put_name");
        vineyard.client().flushReleases();
        assertFalse(vineyard.client().getMeta(id).isTransient());
        before = vineyard.client().requestCount();
        Tensor got = vineyard.client().get("counted", Tensor.class);
        assertEquals(ext ? 1 : 3, vineyard.client().requestCount() - before,
                ext ? "get by name: metadata and payloads in one request" : "get_name, get_data, get_buffers");
        assertEquals(0x0707070707070707L, got.getLong(1023));
        got.close();
        vineyard.client().dropName("counted");
        vineyard.client().delete(id);
    }

    @Test
    void aVineyardPairReadsAsATupleOfTwo() {
        // as vineyard's Python client writes a 2-tuple
        ObjectId first = vineyard.client().put(7L);
        ObjectId second = vineyard.client().put("seven");
        ObjectMeta pair = new ObjectMeta("vineyard::Pair").addMember("first_", first).addMember("second_", second);
        ObjectId id = vineyard.client().putMeta(pair, false, null).id();
        try (Tuple t = vineyard.client().get(id, Tuple.class)) {
            assertEquals(2, t.elements().size());
            assertEquals(7L, ((Scalar) t.elements().get(0)).value());
            assertEquals("seven", ((Scalar) t.elements().get(1)).value());
        }
        vineyard.client().delete(id, first, second);
    }

    @Test
    void aFrameWhoseIndexIsAVineyardIndexReadsItsValues() {
        DataFrame df = new DataFrame(List.of("a"), List.of(Tensor.of(new long[] {1, 2, 3})), Tensor.of(new long[] {10, 11, 12}));
        ObjectId dfId = vineyard.client().put(df);
        // as vineyard's Python client writes a pandas frame: index_ is a vineyard::Index over a tensor
        ObjectMeta frame = vineyard.client().getMeta(dfId).copy();
        for (String key : List.of("id", "signature", "instance_id")) {
            frame.remove(key);
        }
        ObjectMeta index = new ObjectMeta("vineyard::Index").put("name", "\"k\"").put("value_type_", "int64")
                .addMember("value_", frame.member("index_"));
        frame.addMember("index_", index);
        ObjectId pythonShaped = vineyard.client().putMeta(frame, false, null).id();
        try (DataFrame got = vineyard.client().get(pythonShaped, DataFrame.class)) {
            assertEquals(3, got.rowCount());
            assertEquals(11, got.index().getLong(1));
            assertEquals(3, got.column("a").getLong(2));
        }
        vineyard.client().delete(pythonShaped, dfId);
    }

    @Test
    void dataFrameSequenceTupleScalarArray() {
        DataFrame df = new DataFrame(List.of("a", "b"),
                List.of(Tensor.of(new long[] {1, 2, 3}), Tensor.of(new double[] {0.5, 1.5, 2.5})),
                Tensor.of(new long[] {10, 11, 12}));
        ObjectId dfId = vineyard.client().put(df);
        ObjectMeta meta = vineyard.client().getMeta(dfId);
        assertEquals("vineyard::DataFrame", meta.typename());
        assertEquals("[\"a\",\"b\"]", meta.getString("columns_"));
        assertEquals("\"b\"", meta.getString("__values_-key-1"));
        assertEquals(2, meta.getLong("__values_-size"));
        try (DataFrame got = vineyard.client().get(dfId, DataFrame.class)) {
            assertEquals(List.of("a", "b"), got.columnNames());
            assertEquals(2.5, got.column("b").getDouble(2));
            assertEquals(12, got.index().getLong(2));
            assertEquals(3, got.rowCount());
        }

        ObjectId seqId = vineyard.client().put(new Sequence(List.of(42L, "hello", Tensor.of(new int[] {7, 8}))));
        try (Sequence s = vineyard.client().get(seqId, Sequence.class)) {
            assertEquals(new Scalar(42L, "int64"), s.elements().get(0));
            assertEquals("hello", ((Scalar) s.elements().get(1)).value());
            assertEquals(8, ((Tensor) s.elements().get(2)).getLong(1));
        }
        ObjectId tupleId = vineyard.client().put(new Tuple(List.of(1.5, true)));
        assertEquals("vineyard::Tuple", vineyard.client().getMeta(tupleId).typename());
        try (Tuple t = vineyard.client().get(tupleId, Tuple.class)) {
            assertEquals(true, ((Scalar) t.elements().get(1)).value());
        }
        ObjectId scalarId = vineyard.client().put(1234L);
        assertEquals("vineyard::Scalar<int64>", vineyard.client().getMeta(scalarId).typename());
        assertEquals(1234L, vineyard.client().get(scalarId, Long.class));

        ObjectId arrayId = vineyard.client().put(Array.of(new double[] {1, 2, 3, 4, 5}));
        ObjectMeta am = vineyard.client().getMeta(arrayId);
        assertEquals("vineyard::Array<double>", am.typename());
        assertEquals(5, am.getLong("size_"));
        try (Array a = vineyard.client().get(arrayId, Array.class)) {
            assertEquals(5.0, a.getDouble(4));
        }
        vineyard.client().delete(dfId, seqId, tupleId, scalarId, arrayId);
    }

    @Test
    void readsCppArrayMetadataShape() {
        // the metadata a C++ client writes for Array<double> (compat/transcripts/cpp_array_test.jsonl)
        BlobWriter w = vineyard.client().createBlob(40);
        for (int i = 0; i < 5; i++) {
            w.segment().setAtIndex(ValueLayout.JAVA_DOUBLE, i, i * 1.5);
        }
        ObjectMeta m = new ObjectMeta("vineyard::Array<double>");
        m.addMember("buffer_", w.asMember());
        m.put("instance_id", vineyard.client().instanceId()).put("nbytes", 40L).put("size_", 5L).put("transient", true);
        ObjectId id = vineyard.client().putMeta(m, false, null).id();
        try (Array a = vineyard.client().get(id, Array.class)) {
            assertEquals(6.0, a.getDouble(4));
        }
        vineyard.client().delete(id);
    }

    @Test
    void globalTensorRefersToPartitions() {
        ObjectId p0 = vineyard.client().putNamed(Tensor.of(new double[] {1, 2}).withPartitionIndex(0), "p0");
        ObjectId p1 = vineyard.client().putNamed(Tensor.of(new double[] {3, 4}).withPartitionIndex(1), "p1");
        ObjectId g = vineyard.client().putNamed(new GlobalTensor(new long[] {4}, new long[] {2}, List.of(p0, p1)), "global");
        ObjectMeta gm = vineyard.client().getMeta(g);
        assertTrue(gm.isGlobal());
        assertEquals("vineyard::GlobalTensor", gm.typename());
        GlobalTensor got = vineyard.client().get("global", GlobalTensor.class);
        assertEquals(List.of(p0, p1), got.partitions());
        try (Tensor part = vineyard.client().get(got.partitions().get(1), Tensor.class)) {
            assertArrayEquals(new long[] {1}, part.partitionIndex());
            assertEquals(4.0, part.getDouble(1));
        }
        vineyard.client().delete(g, p0, p1);
    }

    @Test
    void holdsAreCountedAndReleasedOnClose() throws Exception {
        ObjectId id = vineyard.client().put(Tensor.of(new double[1024]));
        long used = vineyard.client().status().memoryUsage();
        Tensor a = vineyard.client().get(id, Tensor.class);
        Tensor b = vineyard.client().get(id, Tensor.class);
        try (IpcClient other = IpcClient.connect(vineyard.daemon().socket().toString())) {
            other.delete(id);
        }
        // without extensions the daemon has no server_stats to report the deleted bytes still held
        boolean measurable = DaemonProcess.suiteHasExtensions();
        if (measurable) {
            assertEquals(used, vineyard.daemon().heldBytes(), "held blobs are not freed");
        }
        a.close();
        assertEquals(0.0, b.getDouble(1023), "still readable: b holds the blob");
        if (measurable) {
            assertEquals(used, vineyard.daemon().heldBytes());
        }
        b.close();
        assertEquals(vineyard.baseline(), vineyard.client().status().memoryUsage(), "freed once the last holder closed");
    }

    @Test
    void viewAfterCloseThrowsAndErrorsNameTheObject() {
        ObjectId id = vineyard.client().put(Tensor.of(new double[] {1, 2, 3}));
        Tensor t = vineyard.client().get(id, Tensor.class);
        VineyardException e = assertThrows(VineyardException.ObjectNotExists.class,
                () -> vineyard.client().get(new ObjectId(0x1234L), Tensor.class));
        assertTrue(e.getMessage().contains("o0000000000001234"), e.getMessage());
        VineyardException byName = assertThrows(VineyardException.ObjectNotExists.class, () -> vineyard.client().get("nope", Tensor.class));
        assertTrue(byName.getMessage().contains("'nope'"), byName.getMessage());
        assertThrows(VineyardException.class, () -> vineyard.client().get(id, DataFrame.class));
        vineyard.client().delete(id);
        vineyard.client().close();
        assertThrows(IllegalStateException.class, () -> t.getDouble(0), "view of a closed client fails, no crash");
        assertThrows(VineyardException.class, () -> vineyard.client().getMeta(id));
    }

    @Test
    void rpcClientPutsAndGetsOverTcp() {
        try (Client rpc = RpcClient.connect("127.0.0.1", vineyard.daemon().rpcPort())) {
            ObjectId id = rpc.putNamed(new DataFrame(List.of("x"), List.of(Tensor.of(new double[] {9, 8, 7})), null), "over-tcp");
            try (DataFrame df = vineyard.client().get("over-tcp", DataFrame.class)) {
                assertEquals(7.0, df.column("x").getDouble(2));
            }
            ObjectId local = vineyard.client().put(Tensor.of(new long[] {5, 6, 7}));
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
        ObjectId id = vineyard.client().put(new io.vineyard.client.registry.PointType.Point(1.5, -2));
        assertEquals("my::Point", vineyard.client().getMeta(id).typename());
        assertEquals(new io.vineyard.client.registry.PointType.Point(1.5, -2),
                vineyard.client().get(id, io.vineyard.client.registry.PointType.Point.class));
        vineyard.client().delete(id);
    }

    @Test
    void blobPutAndGet() {
        BlobWriter w = vineyard.client().createBlob(100);
        w.segment().fill((byte) 3);
        try (Blob sealed = w.seal()) {
            assertEquals(100, sealed.size());
            try (Blob got = vineyard.client().get(sealed.id(), Blob.class)) {
                assertEquals(3, got.segment().get(ValueLayout.JAVA_BYTE, 99));
            }
            vineyard.client().delete(sealed.id());
        }
    }
}
