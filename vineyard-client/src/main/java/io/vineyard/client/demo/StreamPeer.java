package io.vineyard.client.demo;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.stream.ByteStreamReader;
import io.vineyard.client.stream.ByteStreamWriter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The other process of the stream tests (Java's StreamTest and Python's test_stream.py, through
 * {@code bin/java-client}). Arguments: mode, socket, stream id, count.
 * <ul>
 * <li>{@code write}: chunks of 2^1 .. 2^count bytes, chunk k filled with byte k, then finish;
 * <li>{@code write-stall}: count chunks of 1 KiB, asks for one more (so count are queued), prints
 *     {@code wrote}, then blocks on stdin (the test kills it);
 * <li>{@code write-mib}: count chunks of 1 MiB, then finish; prints {@code done} or the error;
 * <li>{@code read}: prints each chunk as {@code <size> <first byte>}, then {@code end} or {@code failed};
 * <li>{@code read-stall}: pulls one chunk, prints {@code pulled}, blocks on stdin.
 * </ul>
 */
public final class StreamPeer {
    private StreamPeer() {
    }

    public static void main(String[] args) throws IOException {
        String mode = args[0];
        ObjectId stream = ObjectId.parse(args[2]);
        int count = Integer.parseInt(args[3]);
        try (IpcClient client = IpcClient.connect(args[1])) {
            switch (mode) {
                case "write" -> {
                    try (ByteStreamWriter w = ByteStream.openWriter(client, stream)) {
                        for (int k = 1; k <= count; k++) {
                            w.nextChunk(1L << k).fill((byte) k);
                        }
                        w.finish();
                    }
                }
                case "write-stall" -> {
                    ByteStreamWriter w = ByteStream.openWriter(client, stream);
                    for (int k = 1; k <= count + 1; k++) {
                        w.nextChunk(1024).fill((byte) k);
                    }
                    say("wrote");
                    blockOnStdin();
                }
                case "write-mib" -> {
                    try (ByteStreamWriter w = ByteStream.openWriter(client, stream)) {
                        for (int k = 0; k < count; k++) {
                            w.nextChunk(1 << 20).fill((byte) k);
                        }
                        w.finish();
                        say("done");
                    } catch (RuntimeException e) {
                        say("error " + e);
                    }
                }
                case "read" -> {
                    try (ByteStreamReader r = ByteStream.openReader(client, stream)) {
                        MemorySegment chunk;
                        while ((chunk = r.next()) != null) {
                            say(chunk.byteSize() + " " + chunk.get(ValueLayout.JAVA_BYTE, 0));
                        }
                        say("end");
                    } catch (RuntimeException e) {
                        say("failed " + e.getMessage());
                    }
                }
                case "read-stall" -> {
                    ByteStreamReader r = ByteStream.openReader(client, stream);
                    r.next();
                    say("pulled");
                    blockOnStdin();
                }
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
        }
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static void blockOnStdin() throws IOException {
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        throw new IllegalStateException("the test was to kill this process");
    }
}
