package io.vineyard.bench;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.IpcClient;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The reading process of {@link SdkBench}'s pipeline rows. Reads commands on stdin, one per line, and
 * answers {@code ok <nanos> <checksum>}: {@code vineyard <socket> <name>}, {@code ipc <path>},
 * {@code parquet <file uri>}, {@code exit}. Each read touches every value ({@link BenchTables#touch}).
 */
public final class BenchPeer {
    private BenchPeer() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        IpcClient client = null;
        try (BufferAllocator allocator = new RootAllocator()) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] c = line.split(" ");
                long t0 = System.nanoTime();
                double sum;
                switch (c[0]) {
                    case "vineyard" -> {
                        if (client == null) {
                            client = IpcClient.connect(c[1]);
                        }
                        t0 = System.nanoTime();
                        try (ArrowTable t = client.get(c[2], ArrowTable.class, allocator)) {
                            sum = BenchTables.touch(t);
                        }
                    }
                    case "ipc" -> {
                        sum = 0;
                        try (RandomAccessFile f = new RandomAccessFile(c[1], "r");
                             ArrowFileReader r = new ArrowFileReader(f.getChannel(), allocator)) {
                            while (r.loadNextBatch()) {
                                sum += BenchTables.touch(r.getVectorSchemaRoot());
                            }
                        }
                    }
                    case "parquet" -> {
                        sum = 0;
                        try (FileSystemDatasetFactory factory = new FileSystemDatasetFactory(allocator,
                                NativeMemoryPool.getDefault(), FileFormat.PARQUET, c[1]);
                             Dataset dataset = factory.finish();
                             Scanner scanner = dataset.newScan(new ScanOptions(1 << 20));
                             ArrowReader r = scanner.scanBatches()) {
                            while (r.loadNextBatch()) {
                                VectorSchemaRoot root = r.getVectorSchemaRoot();
                                sum += BenchTables.touch(root);
                            }
                        }
                    }
                    case "exit" -> {
                        return;
                    }
                    default -> throw new IllegalArgumentException(line);
                }
                System.out.printf(Locale.ROOT, "ok %d %.1f%n", System.nanoTime() - t0, sum);
                System.out.flush();
            }
        } finally {
            if (client != null) {
                client.close();
            }
        }
    }
}
