package io.vineyard.bench;

import io.vineyard.arrow.RecordBatchStream;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bin/bench-stream}: a producer process writes an Arrow table (int64 id, float64 x) of 1 GiB as
 * 64 RecordBatches while a consumer process sums column x of each batch as it arrives, through four
 * paths: a vineyard RecordBatchStream, vineyard put of the whole table then get, an Arrow IPC stream
 * through a pipe, and an Arrow IPC file on /dev/shm written whole then read. Both processes are
 * started and connected before the clock starts; the producer builds each batch when it is due.
 * Prints, per path, the time to the consumer's first batch and to its end (median of 3).
 * Options: {@code --batches N} (64), {@code --rows-per-batch N} (1,048,576: 16 MiB a batch).
 */
public final class StreamBench {
    private StreamBench() {
    }

    public static void main(String[] args) throws Exception {
        int batches = 64;
        int rows = 1 << 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batches" -> batches = Integer.parseInt(args[++i]);
                case "--rows-per-batch" -> rows = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "vineyard-stream-bench-");
        Path socket = dir.resolve("vineyard.sock");
        long tableBytes = (long) batches * rows * 16;
        Process daemon = SdkBench.startDaemon(socket, "--size=" + Math.max(2L << 30, 3 * tableBytes));
        String[] names = {"vineyard RecordBatchStream", "vineyard put table, then get", "Arrow IPC stream, pipe",
            "Arrow IPC file on /dev/shm"};
        String[] modes = {"stream", "put", "pipe", "file"};
        double[][] first = new double[4][3];
        double[][] end = new double[4][3];
        try (IpcClient client = IpcClient.connect(socket.toString())) {
            for (int rep = 0; rep < 3; rep++) {
                for (int m = 0; m < 4; m++) {
                    String target = switch (modes[m]) {
                        case "stream" -> RecordBatchStream.create(client, Map.of("bench", "stream")).toString();
                        case "put" -> "bench-table";
                        case "pipe" -> mkfifo(dir.resolve("pipe" + rep));
                        default -> dir.resolve("table" + rep + ".arrow").toString();
                    };
                    double[] r = run(modes[m], socket, target, batches, rows);
                    first[m][rep] = r[0];
                    end[m][rep] = r[1];
                    if (modes[m].equals("put")) {
                        client.delete(client.getName("bench-table"));
                        client.dropName("bench-table");
                    } else if (!modes[m].equals("stream")) {
                        Files.deleteIfExists(Path.of(target));
                    }
                }
            }
        } finally {
            SdkBench.stop(daemon);
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        System.out.printf(Locale.ROOT, "A %.2f GiB Arrow table (int64, float64) as %d RecordBatches from a producer process"
                + " to a consumer that sums a column per batch; median of 3, ms from the producer's start%n",
                tableBytes / (double) (1L << 30), batches);
        System.out.printf(Locale.ROOT, "| %-30s | %14s | %12s |%n", "path", "first batch", "end to end");
        System.out.printf(Locale.ROOT, "|%s|%s|%s|%n", "-".repeat(32), "-".repeat(16), "-".repeat(14));
        for (int m = 0; m < 4; m++) {
            System.out.printf(Locale.ROOT, "| %-30s | %14.1f | %12.1f |%n", names[m], SdkBench.median(first[m]),
                    SdkBench.median(end[m]));
        }
        double putEnd = SdkBench.median(end[1]);
        System.out.printf(Locale.ROOT, "targets: stream's first batch <= 1/20 of put-then-get's end to end (%.1f ms): %.1f ms;"
                + " stream's end to end <= put-then-get's: %.1f vs %.1f ms%n", putEnd / 20, SdkBench.median(first[0]),
                SdkBench.median(end[0]), putEnd);
    }

    private static String mkfifo(Path p) throws IOException, InterruptedException {
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        if (mk.waitFor() != 0) {
            throw new IOException("mkfifo " + p + " failed");
        }
        return p.toString();
    }

    /** One run of one path: returns {first batch ms, end ms} from the moment the producer is told to go. */
    private static double[] run(String mode, Path socket, String target, int batches, int rows) throws Exception {
        List<String> common = List.of(mode, socket.toString(), target, Integer.toString(batches), Integer.toString(rows));
        List<String> pa = new ArrayList<>(List.of("produce"));
        pa.addAll(common);
        List<String> ca = new ArrayList<>(List.of("consume"));
        ca.addAll(common);
        Process producer = SdkBench.startJava(StreamBenchPeer.class.getName(), pa.toArray(String[]::new));
        Process consumer = SdkBench.startJava(StreamBenchPeer.class.getName(), ca.toArray(String[]::new));
        try {
            PrintWriter toProducer = writer(producer);
            PrintWriter toConsumer = writer(consumer);
            BufferedReader fromProducer = reader(producer);
            BufferedReader fromConsumer = reader(consumer);
            expect(fromProducer, "ready");
            expect(fromConsumer, "ready");
            long t0 = System.nanoTime();
            toProducer.println("go");
            if (mode.equals("put") || mode.equals("file")) {
                expect(fromProducer, "written");
                toConsumer.println("go"); // the whole table exists now
            } else {
                toConsumer.println("go");
            }
            String[] done = expect(fromConsumer, "done").split(" ");
            expect(fromProducer, "finished");
            return new double[] {SdkBench.ms(Long.parseLong(done[1]) - t0), SdkBench.ms(Long.parseLong(done[2]) - t0)};
        } finally {
            producer.destroyForcibly();
            consumer.destroyForcibly();
            producer.waitFor();
            consumer.waitFor();
        }
    }

    private static PrintWriter writer(Process p) {
        return new PrintWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8), true);
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    private static String expect(BufferedReader in, String word) throws IOException {
        String line;
        while ((line = in.readLine()) != null && !line.startsWith(word)) {
            System.err.println("peer: " + line);
        }
        if (line == null) {
            throw new IOException("a bench process died before it said '" + word + "'");
        }
        return line;
    }
}
