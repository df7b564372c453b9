package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * The second process of the zero-copy test: maps a blob created by another process and reports what
 * it sees, on request, through the same mapping. Protocol on stdin/stdout, one line each:
 * {@code read} prints {@code checksum=<sum> inside=<bool> address=<addr>}; {@code sealed} fetches the
 * blob again without {@code unsafe} and prints {@code sealed-ok <checksum>}; {@code quit} exits.
 */
public final class BlobPeer {
    private BlobPeer() {
    }

    public static void main(String[] args) throws Exception {
        String socket = args[0];
        BigInteger blobId = new BigInteger(args[1]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (IpcConnection conn = IpcConnection.connect(socket, 30_000)) {
            JsonNode payload = get(conn, blobId, true);
            MemorySegment blob = conn.blobSegment(payload);
            MemorySegment mapping = conn.storeMapping(payload.get("store_fd").asInt());
            String line;
            while ((line = in.readLine()) != null) {
                switch (line.trim()) {
                    case "read" -> {
                        boolean inside = blob.address() >= mapping.address()
                                && blob.address() + blob.byteSize() <= mapping.address() + mapping.byteSize();
                        System.out.println("checksum=" + checksum(blob) + " inside=" + inside + " address=" + blob.address());
                    }
                    case "sealed" -> {
                        JsonNode p = get(conn, blobId, false);
                        MemorySegment again = conn.blobSegment(p);
                        System.out.println("sealed-ok " + checksum(again) + " same-address=" + (again.address() == blob.address()));
                    }
                    case "quit" -> {
                        return;
                    }
                    default -> System.out.println("unknown command " + line);
                }
                System.out.flush();
            }
        }
    }

    private static JsonNode get(IpcConnection conn, BigInteger id, boolean unsafe) {
        ObjectNode req = Json.object();
        req.put("type", "get_buffers_request");
        req.putArray("ids").add(id);
        req.put("unsafe", unsafe);
        return conn.request(req).get("payloads").get(0);
    }

    /** A position-sensitive checksum of every byte. */
    static long checksum(MemorySegment s) {
        long sum = 0;
        for (long i = 0; i < s.byteSize(); i++) {
            sum = sum * 31 + (s.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
        }
        return sum;
    }
}
