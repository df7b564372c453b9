package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Another process (a second JVM) maps a blob this process created: it sees the bytes, the view lies
 * inside its mapping of the pool, and bytes written here after it mapped the blob show up in its view
 * without a new request (same memory, not a copy).
 */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class ZeroCopyAcrossProcessesTest {
    private DaemonProcess daemon;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=256Mi");
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    @Test
    void secondJvmSeesTheSameMemory() throws Exception {
        int size = 1 << 20;
        try (IpcConnection writer = daemon.connect()) {
            ObjectNode create = Json.object();
            create.put("type", "create_buffer_request");
            create.put("size", size);
            ObjectNode reply = writer.request(create);
            JsonNode payload = reply.get("created");
            MemorySegment blob = writer.blobSegment(payload);
            for (int i = 0; i < size; i++) {
                blob.set(ValueLayout.JAVA_BYTE, i, (byte) (i % 251));
            }
            Process peer = new ProcessBuilder(List.of(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), BlobPeer.class.getName(), daemon.socket(),
                    reply.get("id").asText())).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (PrintWriter toPeer = new PrintWriter(peer.getOutputStream(), true, StandardCharsets.UTF_8);
                 BufferedReader fromPeer = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8))) {
                toPeer.println("read");
                String first = fromPeer.readLine();
                assertEquals("checksum=" + BlobPeer.checksum(blob) + " inside=true", first.substring(0, first.indexOf(" address=")),
                        "the peer sees the writer's bytes inside its own mapping of the pool");

                // write again, unsealed: the peer reads through the mapping it already has
                byte[] marker = "written after the peer mapped the blob".getBytes(StandardCharsets.UTF_8);
                MemorySegment.copy(marker, 0, blob, ValueLayout.JAVA_BYTE, 4096, marker.length);
                toPeer.println("read");
                String second = fromPeer.readLine();
                assertEquals("checksum=" + BlobPeer.checksum(blob), second.substring(0, second.indexOf(" inside")),
                        "a write before seal is visible through the other process's mapping");
                assertEquals(first.substring(first.indexOf("address=")), second.substring(second.indexOf("address=")));

                ObjectNode seal = Json.object();
                seal.put("type", "seal_request");
                seal.set("object_id", reply.get("id"));
                writer.request(seal);
                toPeer.println("sealed");
                assertEquals("sealed-ok " + BlobPeer.checksum(blob) + " same-address=true", fromPeer.readLine());
                toPeer.println("quit");
                assertTrue(peer.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, peer.exitValue());
            } finally {
                peer.destroyForcibly();
            }
        }
    }
}
