package io.vineyard.bench;

import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * Get latency by id through the Java SDK, object sizes 1 KiB to 4 GiB, against the round trip of a trivial
 * request ({@code instance_status}) as the floor. A get is one {@code get_object} round trip; closing the
 * blob sends its release without waiting. Needs a daemon: run through {@code bin/bench-sdk} (which starts
 * one and sets {@code -Dvineyard.socket}), or
 * {@code java -Dvineyard.socket=/path -cp ... org.openjdk.jmh.Main GetLatencyBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GetLatencyBench {
    /** Object size in bytes. */
    @Param({"1024", "1048576", "67108864", "1073741824", "4294967296"})
    public long sizeBytes;

    private IpcClient client;
    private ObjectId id;

    /** Connects and puts one blob of {@code sizeBytes} (left unwritten: a get never touches the bytes). */
    @Setup(Level.Trial)
    public void setUp() {
        client = IpcClient.connect(System.getProperty("vineyard.socket"));
        BlobWriter w = client.createBlob(sizeBytes);
        try (Blob b = w.seal()) {
            id = b.id();
        }
    }

    /** Deletes the blob and disconnects. */
    @TearDown(Level.Trial)
    public void tearDown() {
        client.delete(id);
        client.close();
    }

    /** One get by id (metadata and payload, mapped in place) and its release. */
    @Benchmark
    public long getById() {
        try (Blob b = client.get(id, Blob.class)) {
            return b.size();
        }
    }

    /** The floor: one trivial request's round trip, same connection. */
    @Benchmark
    public long floor() {
        return client.status().memoryUsage();
    }
}
