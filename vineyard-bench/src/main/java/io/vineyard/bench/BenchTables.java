package io.vineyard.bench;

import io.vineyard.arrow.ArrowTable;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** The benchmark's table (id:int64, score:float64, name:utf8 with nulls) and the work a reader does on it. */
final class BenchTables {
    private BenchTables() {
    }

    static VectorSchemaRoot build(BufferAllocator allocator, int rows) {
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
        VectorSchemaRoot root = new VectorSchemaRoot(List.of(id, score, name));
        root.setRowCount(rows);
        return root;
    }

    /** Reads every value a consumer would: sums of id and score, string bytes, nulls. */
    static double touch(VectorSchemaRoot root) {
        BigIntVector id = (BigIntVector) root.getVector("id");
        Float8Vector score = (Float8Vector) root.getVector("score");
        VarCharVector name = (VarCharVector) root.getVector("name");
        long ids = 0;
        double scores = 0;
        long bytes = 0;
        int n = root.getRowCount();
        for (int i = 0; i < n; i++) {
            ids += id.get(i);
            scores += score.get(i);
            if (!name.isNull(i)) {
                bytes += name.getEndOffset(i) - name.getStartOffset(i);
            }
        }
        return ids + scores + bytes;
    }

    static double touch(ArrowTable t) {
        double s = 0;
        for (VectorSchemaRoot r : t.batches()) {
            s += touch(r);
        }
        return s;
    }
}
