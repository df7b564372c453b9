package io.vineyard.client.stream;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs the Java examples of docs/streams.md and of ByteStream's Javadoc verbatim. */
class StreamDocExamplesTest {
    private static final Path SOURCE = DocSnippets.repo().resolve(
            "vineyard-client/src/test/java/io/vineyard/client/stream/StreamDocExamplesTest.java");
    private static final Path ARROW_SOURCE = DocSnippets.repo().resolve(
            "vineyard-arrow/src/test/java/io/vineyard/arrow/RecordBatchStreamTest.java");
    private DaemonProcess daemon;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=64Mi");
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    @Test
    void theDocsShowTheCodeTheTestsRun() throws Exception {
        Path doc = DocSnippets.repo().resolve("docs/streams.md");
        DocSnippets.assertEveryBlockShown(DocSnippets.javaBlocks(doc), doc, SOURCE, ARROW_SOURCE);
        Path javadoc = DocSnippets.repo().resolve("vineyard-client/src/main/java/io/vineyard/client/stream/ByteStream.java");
        DocSnippets.assertEveryBlockShown(DocSnippets.javadocBlocks(javadoc), javadoc, SOURCE);
        Path arrowJavadoc = DocSnippets.repo().resolve("vineyard-arrow/src/main/java/io/vineyard/arrow/RecordBatchStream.java");
        DocSnippets.assertEveryBlockShown(DocSnippets.javadocBlocks(arrowJavadoc), arrowJavadoc, ARROW_SOURCE);
    }

    @Test
    void theByteStreamExamples() {
        try (IpcClient client = IpcClient.connect(daemon.socket())) {
            List<String> seen;
            {
                // ---- docs/streams.md, ByteStream ----
                ObjectId id = ByteStream.create(client, Map.of("kind", "csv"));       // vineyard::ByteStream
                try (ByteStreamWriter w = ByteStream.openWriter(client, id)) {
                    w.write("a,b\n1,".getBytes(StandardCharsets.UTF_8));                // one chunk per write
                    MemorySegment chunk = w.nextChunk(4);                               // or fill a chunk in place
                    chunk.copyFrom(MemorySegment.ofArray("2\n3,".getBytes(StandardCharsets.UTF_8)));
                    w.write("4\n".getBytes(StandardCharsets.UTF_8));
                    w.finish();                                                         // close() without finish aborts
                }
                List<String> lines;
                try (ByteStreamReader r = ByteStream.openReader(client, id)) {
                    lines = r.lines().toList();                                         // [a,b, 1,2, 3,4]: lines span chunks
                }
                // ---- end ----
                seen = lines;
                assertEquals(Map.of("kind", "csv"), Streams.params(client, id));
            }
            assertEquals(List.of("a,b", "1,2", "3,4"), seen);
            {
                // ---- ByteStream's Javadoc ----
                ObjectId id = ByteStream.create(client, Map.of("kind", "csv"));
                try (ByteStreamWriter w = ByteStream.openWriter(client, id)) {
                    w.write("a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));
                    w.finish();
                }
                List<String> lines;
                try (ByteStreamReader r = ByteStream.openReader(client, id)) {
                    lines = r.lines().toList();                         // [a,b, 1,2]
                }
                // ---- end ----
                seen = lines;
            }
            assertEquals(List.of("a,b", "1,2"), seen);
        }
    }
}
