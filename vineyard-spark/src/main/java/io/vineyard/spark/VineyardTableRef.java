package io.vineyard.spark;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.ArrayList;
import java.util.List;

/**
 * A vineyard Table or RecordBatch as Spark sees it: its Arrow schema and its record batches (ids and row
 * counts), read from metadata only.
 *
 * @param schema  the Arrow schema
 * @param batches the record batches' ids
 * @param rows    each batch's row count
 */
record VineyardTableRef(Schema schema, List<ObjectId> batches, List<Long> rows) {
    static VineyardTableRef resolve(IpcClient client, String name) {
        ObjectMeta m = client.getMeta(client.getName(name));
        Schema schema = client.get(m.member("schema_").id(), Schema.class);
        List<ObjectId> ids = new ArrayList<>();
        List<Long> rows = new ArrayList<>();
        if (m.typename().startsWith("vineyard::RecordBatch")) {
            ids.add(m.id());
            rows.add(m.getLong("row_num_"));
        } else if (m.typename().startsWith("vineyard::Table")) {
            String prefix = m.has("partitions_-size") ? "partitions_" : "__batches_";
            long n = m.getLong(prefix + "-size", m.getLong("batch_num_", 0));
            for (int i = 0; i < n; i++) {
                ObjectMeta b = m.member(prefix + "-" + i);
                ids.add(b.id());
                rows.add(b.getLong("row_num_"));
            }
        } else {
            throw new VineyardException(Status.TYPE_ERROR, "format(\"vineyard\") reads a vineyard::Table or "
                    + "vineyard::RecordBatch; '" + name + "' is a " + m.typename());
        }
        return new VineyardTableRef(schema, ids, rows);
    }
}
