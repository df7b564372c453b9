package io.vineyard.bench;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.RecordBatchStream;
import io.vineyard.arrow.RecordBatchStreamReader;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.stream.ObjectStreamWriter;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A producer or consumer process of {@link StreamBench}. Arguments: role (produce|consume), mode
 * (stream|put|pipe|file), socket, target (stream id, object name, fifo or file path), batches, rows.
 * Says {@code ready}, waits for {@code go} on stdin; the producer says {@code written} once the
 * whole table exists (put, file) and {@code finished} at its end; the consumer says
 * {@code done <first-batch nanoTime> <end nanoTime> <sum>}.
 */
public final class StreamBenchPeer {
    public static final Schema SCHEMA = new Schema(List.of(Field.nullable("id", new ArrowType.Int(64, true)),
            Field.nullable("x", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))));

    private StreamBenchPeer() {
    }

    public static void main(String[] args) throws Exception {
        String role = args[0];
        String mode = args[1];
        String target = args[3];
        int batches = Integer.parseInt(args[4]);
        int rows = Integer.parseInt(args[5]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (BufferAllocator allocator = new RootAllocator();
             IpcClient client = mode.equals("stream") || mode.equals("put") ? IpcClient.connect(args[2]) : null) {
            warmUp(mode, client, allocator);
            if (role.equals("produce")) {
                produce(mode, client, target, batches, rows, allocator, in);
            } else {
                consume(mode, client, target, allocator, in);
            }
        }
    }

    /**
     * Runs this path's code on a small table before the clock starts (both roles, every path alike), so
     * that the figures are of warm code, as in a long-lived pipeline process, not of class loading and JIT.
     */
    private static void warmUp(String mode, IpcClient client, BufferAllocator allocator) throws Exception {
        for (int round = 0; round < 3; round++) {
            List<VectorSchemaRoot> small = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
                fill(root, k, 50_000);
                small.add(root);
            }
            try (ArrowTable t = new ArrowTable(SCHEMA, small)) {
                if (client != null) {
                    ObjectId table = client.put(t);
                    try (ArrowTable got = client.get(table, ArrowTable.class, allocator)) {
                        got.batches().forEach(StreamBenchPeer::sumX);
                    }
                    client.delete(table);
                    ObjectId stream = RecordBatchStream.create(client, java.util.Map.of());
                    try (ObjectStreamWriter w = RecordBatchStream.openWriter(client, stream);
                         RecordBatchStreamReader r = RecordBatchStream.openReader(client, stream, allocator)) {
                        for (VectorSchemaRoot b : small) {
                            w.write(b);
                        }
                        w.finish();
                        while (r.loadNextBatch()) {
                            sumX(r.getVectorSchemaRoot());
                        }
                    }
                } else {
                    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
                         ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(bytes))) {
                        w.start();
                        for (int k = 0; k < 4; k++) {
                            fill(root, k, 50_000);
                            w.writeBatch();
                        }
                        w.end();
                    }
                    try (ArrowStreamReader r = new ArrowStreamReader(new java.io.ByteArrayInputStream(bytes.toByteArray()), allocator)) {
                        while (r.loadNextBatch()) {
                            sumX(r.getVectorSchemaRoot());
                        }
                    }
                    java.nio.file.Path f = java.nio.file.Files.createTempFile(java.nio.file.Path.of("/dev/shm"), "warm", ".arrow");
                    try {
                        try (RandomAccessFile out = new RandomAccessFile(f.toFile(), "rw");
                             VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
                             ArrowFileWriter w = new ArrowFileWriter(root, null, out.getChannel())) {
                            w.start();
                            fill(root, 0, 50_000);
                            w.writeBatch();
                            w.end();
                        }
                        try (RandomAccessFile in = new RandomAccessFile(f.toFile(), "r");
                             ArrowFileReader r = new ArrowFileReader(in.getChannel(), allocator)) {
                            while (r.loadNextBatch()) {
                                sumX(r.getVectorSchemaRoot());
                            }
                        }
                    } finally {
                        java.nio.file.Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    private static void say(String s) {
        System.out.println(s);
        System.out.flush();
    }

    private static void awaitGo(BufferedReader in) throws java.io.IOException {
        String line = in.readLine();
        if (!"go".equals(line)) {
            throw new IllegalStateException("expected go, got " + line);
        }
    }

    /** Fills {@code root} with batch {@code k}: id = k * rows + i, x = id / 2. */
    public static void fill(VectorSchemaRoot root, int k, int rows) {
        BigIntVector id = (BigIntVector) root.getVector("id");
        Float8Vector x = (Float8Vector) root.getVector("x");
        id.allocateNew(rows);
        x.allocateNew(rows);
        long base = (long) k * rows;
        for (int i = 0; i < rows; i++) {
            id.set(i, base + i);
            x.set(i, (base + i) * 0.5);
        }
        root.setRowCount(rows);
    }

    private static void produce(String mode, IpcClient client, String target, int batches, int rows,
                                BufferAllocator allocator, BufferedReader in) throws Exception {
        switch (mode) {
            case "stream" -> {
                try (ObjectStreamWriter w = RecordBatchStream.openWriter(client, ObjectId.parse(target))) {
                    say("ready");
                    awaitGo(in);
                    for (int k = 0; k < batches; k++) {
                        try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator)) {
                            fill(root, k, rows);
                            w.write(root);
                        }
                    }
                    w.finish();
                }
            }
            case "put" -> {
                say("ready");
                awaitGo(in);
                List<VectorSchemaRoot> all = new ArrayList<>();
                for (int k = 0; k < batches; k++) {
                    VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
                    fill(root, k, rows);
                    all.add(root);
                }
                try (ArrowTable t = new ArrowTable(SCHEMA, all)) {
                    client.putNamed(t, target);
                }
                say("written");
            }
            case "pipe" -> {
                say("ready");
                awaitGo(in);
                try (FileOutputStream out = new FileOutputStream(target);
                     VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
                     ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
                    w.start();
                    for (int k = 0; k < batches; k++) {
                        fill(root, k, rows);
                        w.writeBatch();
                    }
                    w.end();
                }
            }
            default -> {
                say("ready");
                awaitGo(in);
                try (RandomAccessFile f = new RandomAccessFile(target, "rw");
                     VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
                     ArrowFileWriter w = new ArrowFileWriter(root, null, f.getChannel())) {
                    w.start();
                    for (int k = 0; k < batches; k++) {
                        fill(root, k, rows);
                        w.writeBatch();
                    }
                    w.end();
                }
                say("written");
            }
        }
        say("finished");
    }

    private static void consume(String mode, IpcClient client, String target, BufferAllocator allocator,
                                BufferedReader in) throws Exception {
        double sum = 0;
        long first = 0;
        if (mode.equals("put")) {
            say("ready");
            awaitGo(in);
            try (ArrowTable t = client.get(target, ArrowTable.class, allocator)) {
                for (VectorSchemaRoot b : t.batches()) {
                    sum += sumX(b);
                    if (first == 0) {
                        first = System.nanoTime();
                    }
                }
            }
        } else {
            ArrowReader reader = null;
            RandomAccessFile file = null;
            FileInputStream fifo = null;
            if (mode.equals("stream")) {
                reader = RecordBatchStream.openReader(client, ObjectId.parse(target), allocator);
            }
            say("ready");
            awaitGo(in);
            if (mode.equals("pipe")) {
                fifo = new FileInputStream(target);
                reader = new ArrowStreamReader(fifo, allocator);
            } else if (mode.equals("file")) {
                file = new RandomAccessFile(target, "r");
                reader = new ArrowFileReader(file.getChannel(), allocator);
            }
            try (ArrowReader r = reader) {
                while (r.loadNextBatch()) {
                    sum += sumX(r.getVectorSchemaRoot());
                    if (first == 0) {
                        first = System.nanoTime();
                    }
                }
            } finally {
                if (file != null) {
                    file.close();
                }
                if (fifo != null) {
                    fifo.close();
                }
            }
        }
        say("done " + first + " " + System.nanoTime() + " " + sum);
    }

    private static double sumX(VectorSchemaRoot b) {
        Float8Vector x = (Float8Vector) b.getVector("x");
        double s = 0;
        int n = b.getRowCount();
        for (int i = 0; i < n; i++) {
            s += x.get(i);
        }
        return s;
    }
}
