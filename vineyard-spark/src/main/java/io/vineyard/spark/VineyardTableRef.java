package io.vineyard.spark;

import io.vineyard.arrow.DataFrameArrow;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.GlobalDataFrame;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.ArrayList;
import java.util.List;

/**
 * A vineyard object as Spark sees it: its Arrow schema and its chunks, each one input partition: the
 * record batches of a Table (or the one RecordBatch), or the DataFrames of a GlobalDataFrame (or the one
 * DataFrame).
 *
 * @param schema    the Arrow schema
 * @param chunks    the chunks' ids
 * @param instances the instance holding each chunk
 * @param frames    true when the chunks are DataFrames, false when record batches
 */
record VineyardTableRef(Schema schema, List<ObjectId> chunks, List<Long> instances, boolean frames) {
    static VineyardTableRef resolve(IpcClient client, String name) {
        return resolve(client, name, false);
    }

    /** As {@link #resolve(IpcClient, String)}; with {@code fetch}, a global frame with no chunk here lends a copy of one for its schema. */
    static VineyardTableRef resolve(IpcClient client, String name, boolean fetch) {
        ObjectMeta m = client.getMeta(client.getName(name));
        String t = m.typename();
        if (t.startsWith("vineyard::RecordBatch")) {
            return new VineyardTableRef(client.get(m.member("schema_").id(), Schema.class), List.of(m.id()), List.of(m.instanceId()), false);
        }
        if (t.startsWith("vineyard::Table")) {
            String prefix = m.has("partitions_-size") ? "partitions_" : "__batches_";
            long n = m.getLong(prefix + "-size", m.getLong("batch_num_", 0));
            List<ObjectId> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add(m.member(prefix + "-" + i).id());
            }
            return new VineyardTableRef(client.get(m.member("schema_").id(), Schema.class), ids,
                    java.util.Collections.nCopies(ids.size(), m.instanceId()), false);   // a Table is local: its batches are where it is
        }
        if (t.startsWith("vineyard::GlobalDataFrame") || t.startsWith("vineyard::DataFrame")) {
            List<ObjectId> ids = t.startsWith("vineyard::DataFrame") ? List.of(m.id())
                    : client.get(m.id(), GlobalDataFrame.class).partitions();
            if (ids.isEmpty()) {
                throw new VineyardException(Status.INVALID, "'" + name + "' is a GlobalDataFrame without partitions");
            }
            List<Long> instances = new ArrayList<>();
            ObjectId local = null;
            for (ObjectId id : ids) {
                long instance = id.equals(m.id()) ? m.instanceId() : client.getMeta(id).instanceId();
                instances.add(instance);
                if (local == null && instance == client.instanceId()) {
                    local = id;
                }
            }
            ObjectId copy = null;
            if (local == null) {
                if (!fetch) {
                    throw new VineyardException(Status.INVALID, "no chunk of '" + name + "' is on this daemon (instance " + client.instanceId()
                            + "), so its schema cannot be read here: they are on instances " + new java.util.TreeSet<>(instances)
                            + " (option fetch=true copies chunks here)");
                }
                copy = client.migrate(ids.getFirst());
                local = copy;
            }
            try (DataFrame first = client.get(local, DataFrame.class)) {
                return new VineyardTableRef(DataFrameArrow.schemaOf(first), ids, List.copyOf(instances), true);
            } finally {
                if (copy != null) {
                    deleteCopy(client, copy);
                }
            }
        }
        throw new VineyardException(Status.TYPE_ERROR, "format(\"vineyard\") reads a vineyard::Table, RecordBatch, "
                + "DataFrame or GlobalDataFrame; '" + name + "' is a " + t);
    }

    /** Deletes a migrated copy once read (another task may have deleted the same copy first). */
    static void deleteCopy(IpcClient client, ObjectId copy) {
        client.flushReleases();
        try {
            client.delete(copy);
        } catch (VineyardException.ObjectNotExists e) {
            // deleted already
        }
    }
}
