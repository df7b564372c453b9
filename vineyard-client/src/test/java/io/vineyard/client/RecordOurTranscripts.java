package io.vineyard.client;

import io.vineyard.client.stream.ByteStream;
import io.vineyard.client.stream.ByteStreamReader;
import io.vineyard.client.stream.ByteStreamWriter;
import io.vineyard.client.stream.DataframeStream;
import io.vineyard.client.stream.ObjectStreamReader;
import io.vineyard.client.stream.ObjectStreamWriter;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.VineyardException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Records our SDK's stream conversations with our daemon (through {@link RecordingProxy}) into
 * {@code src/test/resources/transcripts-ours/}, which {@link TranscriptReplayTest} replays: a change of
 * the daemon's stream replies shows up there. Re-record after a deliberate protocol change:
 * {@code java -cp <vineyard-client test classpath> io.vineyard.client.RecordOurTranscripts} from the
 * module directory.
 */
public final class RecordOurTranscripts {
    private RecordOurTranscripts() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "src/test/resources/transcripts-ours");
        Files.createDirectories(out);
        record(out.resolve("java_byte_stream.jsonl"), "our Java SDK: a ByteStream of 11 chunks (2^1..2^11 bytes)"
                + " written, then read to the end; then a second reader and writer refused (45)", proxy -> {
            try (IpcClient client = IpcClient.connect(proxy.socket())) {
                ObjectId id = ByteStream.create(client, Map.of("kind", "recorded"));
                try (ByteStreamWriter w = ByteStream.openWriter(client, id);
                     ByteStreamReader r = ByteStream.openReader(client, id)) {
                    for (int k = 1; k <= 11; k++) {
                        w.nextChunk(1L << k).fill((byte) k);
                    }
                    w.finish();
                    while (r.next() != null) {
                        // read to the end
                    }
                    expectFailure(() -> ByteStream.openReader(client, id));
                    expectFailure(() -> ByteStream.openWriter(client, id));
                }
            }
        });
        record(out.resolve("java_stream_failures.jsonl"), "our Java SDK: an aborted ByteStream (the reader gets"
                + " the queued chunk, then 43), and a writer that goes away without stopping (its connection closes:"
                + " the reader gets the two queued chunks, then 43; vineyardd would leave it waiting)", proxy -> {
            try (IpcClient client = IpcClient.connect(proxy.socket())) {
                ObjectId aborted = ByteStream.create(client, Map.of());
                try (ByteStreamWriter w = ByteStream.openWriter(client, aborted);
                     ByteStreamReader r = ByteStream.openReader(client, aborted)) {
                    w.write(new byte[] {1, 2, 3});
                    w.nextChunk(16);
                    w.abort();
                    r.next();
                    expectFailure(r::next);
                }
                ObjectId orphaned = ByteStream.create(client, Map.of());
                try (ByteStreamReader r = ByteStream.openReader(client, orphaned)) {
                    ByteStreamWriter w = ByteStream.openWriter(client, orphaned);
                    w.write(new byte[100]);
                    w.write(new byte[200]);
                    w.nextChunk(300);
                    w.close(); // gone without stop_stream
                    r.next();
                    r.next();
                    expectFailure(r::next);
                }
            }
        });
        record(out.resolve("java_dataframe_stream.jsonl"), "our Java SDK: three DataFrames through a"
                + " DataframeStream (put, pushed, pulled, got)", proxy -> {
            try (IpcClient client = IpcClient.connect(proxy.socket())) {
                ObjectId id = DataframeStream.create(client, Map.of());
                try (ObjectStreamWriter w = DataframeStream.openWriter(client, id);
                     ObjectStreamReader<DataFrame> r = DataframeStream.openReader(client, id)) {
                    for (int k = 0; k < 3; k++) {
                        w.write(new DataFrame(List.of("x"), List.of(Tensor.of(new long[] {k, k + 1})), null));
                    }
                    w.finish();
                    DataFrame df;
                    while ((df = r.next()) != null) {
                        df.close();
                    }
                }
            }
        });
    }

    private interface Scenario {
        void run(RecordingProxy proxy) throws Exception;
    }

    private static void expectFailure(Runnable r) {
        try {
            r.run();
        } catch (VineyardException e) {
            return;
        }
        throw new IllegalStateException("expected an error reply");
    }

    private static void record(Path file, String note, Scenario scenario) throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start("--size=256Mi")) {
            Path sock = daemon.dir().resolve("proxy.sock");
            RecordingProxy proxy = new RecordingProxy(daemon.socket(), sock);
            try {
                proxy.note(note + "; recorded by RecordOurTranscripts through RecordingProxy against our vineyardd");
                scenario.run(proxy);
            } finally {
                proxy.close();
            }
            proxy.write(file);
        }
        System.out.println("wrote " + file);
    }
}
