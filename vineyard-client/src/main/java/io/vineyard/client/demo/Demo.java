package io.vineyard.client.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcConnection;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The README's first command runs this twice, as two processes: {@code put} writes five doubles into
 * a blob, describes them as a {@code vineyard::Array<double>} (the same metadata vineyard's C++ client
 * writes), persists and names it; {@code get} finds the name, reads the metadata and maps the blob,
 * showing that it reads the producer's memory, not a copy.
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        if (args.length != 2 || !(args[0].equals("put") || args[0].equals("get"))) {
            System.err.println("usage: Demo put|get SOCKET");
            System.exit(2);
        }
        try (IpcConnection c = IpcConnection.connect(args[1])) {
            if (args[0].equals("put")) {
                put(c);
            } else {
                get(c);
            }
        }
    }

    private static ObjectNode msg(String type) {
        ObjectNode m = Json.object();
        m.put("type", type);
        return m;
    }

    private static void put(IpcConnection c) {
        double[] values = {1, 7, 3, 4, 2};
        ObjectNode create = msg("create_buffer_request");
        create.put("size", values.length * 8);
        ObjectNode created = c.request(create);
        MemorySegment blob = c.blobSegment(created.get("created"));
        MemorySegment.copy(values, 0, blob, ValueLayout.JAVA_DOUBLE, 0, values.length);
        long blobId = Json.readU64(created.get("id"), "id");

        ObjectNode put = msg("put_object_request");
        put.putArray("seal").add(Json.u64(blobId));
        ObjectNode content = put.putObject("content");
        content.put("typename", "vineyard::Array<double>");
        content.put("size_", values.length);
        content.put("nbytes", values.length * 8);
        ObjectNode member = content.putObject("buffer_");
        member.put("id", ObjectIds.toText(blobId));
        member.put("typename", "vineyard::Blob");
        member.put("length", values.length * 8);
        put.put("name", "demo-array");
        JsonNode reply = c.request(put);
        System.out.printf("[producer pid %d] put vineyard::Array<double> %s = [1, 7, 3, 4, 2], named 'demo-array' "
                        + "(blob %s at offset %d of the pool)%n", ProcessHandle.current().pid(),
                ObjectIds.toText(Json.readU64(reply.get("id"), "id")), ObjectIds.toText(blobId),
                created.get("created").get("data_offset").asLong());
    }

    private static void get(IpcConnection c) {
        ObjectNode get = msg("get_object_request");
        get.put("name", "demo-array");
        JsonNode reply = c.request(get);
        JsonNode meta = reply.get("content");
        JsonNode payload = reply.get("payloads").get(0);
        MemorySegment blob = c.blobSegment(payload);
        MemorySegment mapping = c.storeMapping(payload.get("store_fd").asInt());
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < meta.get("size_").asInt(); i++) {
            sb.append(i == 0 ? "" : ", ").append((long) blob.getAtIndex(ValueLayout.JAVA_DOUBLE, i));
        }
        sb.append(']');
        boolean inside = blob.address() >= mapping.address()
                && blob.address() + blob.byteSize() <= mapping.address() + mapping.byteSize();
        System.out.printf("[consumer pid %d] got '%s' %s by name in one request: %s = %s%n",
                ProcessHandle.current().pid(), "demo-array", meta.get("typename").asText(), meta.get("id").asText(), sb);
        System.out.printf("[consumer pid %d] the values are read in place from the shared pool (address 0x%x inside "
                + "this process's mapping of the pool: %b), no copy%n", ProcessHandle.current().pid(), blob.address(), inside);
    }
}
