package io.vineyard.arrow;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The tests' table (also used by vineyard-engines' and vineyard-spark's tests through the test jar): row
 * {@code r = first + i} has {@code k = r % groups} (int64), {@code v = r * 0.5} (float64) and
 * {@code name = "n" + r} (utf8), null where {@code nullEvery > 0 && r % nullEvery == 0}.
 */
public final class TestTables {
    private TestTables() {
    }

    /** {@code rows} rows from {@code first}, in {@code allocator}'s memory. */
    public static VectorSchemaRoot keyValueName(BufferAllocator allocator, int first, int rows, int groups, int nullEvery) {
        BigIntVector k = new BigIntVector("k", allocator);
        Float8Vector v = new Float8Vector("v", allocator);
        VarCharVector name = new VarCharVector("name", allocator);
        k.allocateNew(rows);
        v.allocateNew(rows);
        name.allocateNew(rows * 8L, rows);
        for (int i = 0; i < rows; i++) {
            long r = first + i;
            k.set(i, r % groups);
            v.set(i, r * 0.5);
            if (nullEvery > 0 && r % nullEvery == 0) {
                name.setNull(i);
            } else {
                name.setSafe(i, ("n" + r).getBytes(StandardCharsets.UTF_8));
            }
        }
        VectorSchemaRoot root = new VectorSchemaRoot(List.of(k, v, name));
        root.setRowCount(rows);
        return root;
    }
}
