package io.vineyard.client.stream;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;

import java.util.ArrayList;
import java.util.List;

/**
 * vineyard's {@code vineyard::ParallelStream}: a global object over several streams (one per reader
 * or per file of a partitioned read), {@code __streams_-size} and members {@code __streams_-<i>}.
 * Each member stream is read and written on its own, in parallel.
 */
public final class ParallelStream {
    public static final String TYPENAME = "vineyard::ParallelStream";

    private ParallelStream() {
    }

    /** Makes (and persists) a ParallelStream over {@code streams}; returns its id. */
    public static ObjectId create(IpcClient client, List<ObjectId> streams) {
        ObjectMeta m = new ObjectMeta(TYPENAME);
        m.put("__streams_-size", (long) streams.size());
        for (int i = 0; i < streams.size(); i++) {
            client.persist(streams.get(i));
            m.addMember("__streams_-" + i, streams.get(i));
        }
        m.setGlobal(true);
        m.setNbytes(0);
        return client.putMeta(m, true, null).id();
    }

    /** The member streams of a ParallelStream, in order. */
    public static List<ObjectId> streams(IpcClient client, ObjectId parallel) {
        ObjectMeta m = client.getMeta(parallel);
        int n = (int) m.getLong("__streams_-size");
        List<ObjectId> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(m.member("__streams_-" + i).id());
        }
        return out;
    }
}
