package io.vineyard.arrow;

import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.Tensor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * JVM A of {@link AcrossProcessesTest}: puts a tensor of doubles (element i = i * 0.5) named "tensor" and an
 * Arrow table (id:int64 = i, score:float64 = i * 0.25, name:utf8 = "n" + i, null when i % 7 == 3) named
 * "table", then exits. Args: socket, tensor bytes, table rows.
 */
public final class Producer {
    private Producer() {
    }

    public static void main(String[] args) {
        String socket = args[0];
        long tensorBytes = Long.parseLong(args[1]);
        int rows = Integer.parseInt(args[2]);
        try (IpcClient client = IpcClient.connect(socket); BufferAllocator allocator = new RootAllocator()) {
            long n = tensorBytes / 8;
            BlobWriter w = client.createBlob(n * 8);
            MemorySegment s = w.segment();
            for (long i = 0; i < n; i++) {
                s.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, i * 0.5);
            }
            client.putNamed(Tensor.of(DType.DOUBLE, w, Tensor.Order.C, n), "tensor");

            BigIntVector id = new BigIntVector("id", allocator);
            Float8Vector score = new Float8Vector("score", allocator);
            VarCharVector name = new VarCharVector("name", allocator);
            id.allocateNew(rows);
            score.allocateNew(rows);
            name.allocateNew(rows * 9L, rows);
            for (int i = 0; i < rows; i++) {
                id.set(i, i);
                score.set(i, i * 0.25);
                if (i % 7 == 3) {
                    name.setNull(i);
                } else {
                    name.setSafe(i, ("n" + i).getBytes(StandardCharsets.UTF_8));
                }
            }
            try (VectorSchemaRoot root = new VectorSchemaRoot(List.of(id, score, name))) {
                root.setRowCount(rows);
                client.putNamed(ArrowTable.of(root), "table");
            }
        }
        System.out.println("producer done");
    }
}
