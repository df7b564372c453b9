package io.vineyard.client.demo;

import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Hashmap;
import io.vineyard.client.types.Scalar;
import io.vineyard.client.types.Sequence;
import io.vineyard.client.types.Tensor;
import io.vineyard.client.types.Tuple;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The Java half of the cross-language tests (python/tests/test_cross_java.py).
 *
 * <pre>
 *   put SOCKET N    puts Tensor&lt;double&gt; "java-tensor" (element i = i * 0.5, written in place) and
 *                   DataFrame "java-frame" (a: int64 i, b: double i * 0.25; 1000 rows); prints "put ok"
 *   check SOCKET N  gets "py-tensor" (float64, element i = i * 0.25, N elements) and "py-frame"
 *                   (x: int64 i * 3, y: double i / 8; 1000 rows) put by Python, checks every value
 *                   and that the data lies in this process's mapping of the pool; prints "check ok"
 *   tuples SOCKET 0 gets "py-tuple" put by Python, (int64 tensor [0, 1, 2], "x", 2.5, [b"raw" blob, (7, true)]),
 *                   checks it, then puts Sequence "java-seq" [double tensor [0.5, 1.5], "y", Tuple(7, true)],
 *                   Hashmap&lt;int64,int64&gt; "java-map" {7 i: i * i, i &lt; 1000} and Hashmap&lt;int,double&gt;
 *                   "java-map-f" {i: i / 4, i &lt; 100}; prints "tuples ok"
 * </pre>
 * Any mismatch exits with status 1 and a message.
 */
public final class CrossLanguage {
    private static final int FRAME_ROWS = 1000;

    private CrossLanguage() {
    }

    public static void main(String[] args) {
        String mode = args[0];
        long n = Long.parseLong(args[2]);
        try (IpcClient client = IpcClient.connect(args[1])) {
            if (mode.equals("put")) {
                put(client, n);
                System.out.println("put ok");
            } else if (mode.equals("tuples")) {
                tuples(client);
                System.out.println("tuples ok");
            } else {
                check(client, n);
                System.out.println("check ok");
            }
        } catch (RuntimeException e) {
            System.err.println("cross-language " + mode + " failed: " + e);
            System.exit(1);
        }
    }

    private static void put(IpcClient client, long n) {
        BlobWriter w = client.createBlob(8 * n);
        MemorySegment s = w.segment();
        for (long i = 0; i < n; i++) {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, i * 0.5);
        }
        client.putNamed(Tensor.of(DType.DOUBLE, w, Tensor.Order.C, n), "java-tensor");
        long[] a = new long[FRAME_ROWS];
        double[] b = new double[FRAME_ROWS];
        for (int i = 0; i < FRAME_ROWS; i++) {
            a[i] = i;
            b[i] = i * 0.25;
        }
        client.putNamed(new DataFrame(List.of("a", "b"), List.of(Tensor.of(a), Tensor.of(b)), null), "java-frame");
    }

    private static void check(IpcClient client, long n) {
        try (Tensor t = client.get("py-tensor", Tensor.class)) {
            require(t.dtype() == DType.DOUBLE, "py-tensor dtype " + t.dtype());
            require(t.elementCount() == n, "py-tensor has " + t.elementCount() + " elements");
            MemorySegment data = t.data();
            require(client.isInSharedMemory(data.address(), data.byteSize()),
                    "py-tensor's data lies outside this process's mapping of the pool (a copy?)");
            for (long i = 0; i < n; i++) {
                double v = data.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
                if (v != i * 0.25) {
                    throw new IllegalStateException("py-tensor[" + i + "] = " + v + ", expected " + i * 0.25);
                }
            }
        }
        try (DataFrame df = client.get("py-frame", DataFrame.class)) {
            require(df.columnNames().equals(List.of("x", "y")), "py-frame columns " + df.columnNames());
            Tensor x = df.column("x");
            Tensor y = df.column("y");
            require(x.elementCount() == FRAME_ROWS && y.elementCount() == FRAME_ROWS, "py-frame rows");
            require(client.isInSharedMemory(y.data().address(), y.data().byteSize()), "py-frame column y was copied");
            for (int i = 0; i < FRAME_ROWS; i++) {
                require(x.getLong(i) == 3L * i, "py-frame x[" + i + "] = " + x.getLong(i));
                require(y.getDouble(i) == i / 8.0, "py-frame y[" + i + "] = " + y.getDouble(i));
            }
        }
    }

    private static void tuples(IpcClient client) {
        try (Tuple t = client.get("py-tuple", Tuple.class)) {
            List<Object> e = t.elements();
            require(e.size() == 4, "py-tuple has " + e.size() + " elements");
            Tensor numbers = (Tensor) e.get(0);
            require(numbers.dtype() == DType.INT64 && numbers.elementCount() == 3 && numbers.getLong(2) == 2, "py-tuple[0]");
            require("x".equals(((Scalar) e.get(1)).value()), "py-tuple[1] " + e.get(1));
            require(((Number) ((Scalar) e.get(2)).value()).doubleValue() == 2.5, "py-tuple[2] " + e.get(2));
            Sequence inner = (Sequence) e.get(3);
            Blob raw = (Blob) inner.elements().get(0);
            require(raw.size() == 3 && raw.segment().get(ValueLayout.JAVA_BYTE, 0) == 'r', "py-tuple[3][0]");
            Tuple pair = (Tuple) inner.elements().get(1);
            require(((Number) ((Scalar) pair.elements().get(0)).value()).longValue() == 7
                    && Boolean.TRUE.equals(((Scalar) pair.elements().get(1)).value()), "py-tuple[3][1] " + pair.elements());
        }
        client.putNamed(new Sequence(List.of(Tensor.of(new double[] {0.5, 1.5}), "y", new Tuple(List.of(7L, true)))), "java-seq");
        java.util.Map<Long, Long> squares = new java.util.HashMap<>();
        java.util.Map<Integer, Double> quarters = new java.util.HashMap<>();
        for (long i = 0; i < 1000; i++) {
            squares.put(7 * i, i * i);
        }
        for (int i = 0; i < 100; i++) {
            quarters.put(i, i / 4.0);
        }
        try (Hashmap a = Hashmap.of(squares); Hashmap b = Hashmap.of(DType.INT32, DType.DOUBLE, quarters)) {
            client.putNamed(a, "java-map");
            client.putNamed(b, "java-map-f");
        }
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }
}
