package io.vineyard.bench;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.Prefault;
import io.vineyard.client.types.Tensor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The first put of a 160 MB array into a fresh daemon, for each way the client can prepare fresh pool
 * memory ({@link Prefault}), for three daemons: {@code --warm_memory=0} (the pool's pages fault in as
 * they are first written), the default (the pool's low 256 MiB pre-faulted in the background once the
 * daemon listens) and {@code --reserve_memory} (the whole pool pre-faulted before it listens). Each trial starts a new daemon
 * (its pool never touched), connects, puts a 1 KiB tensor (the pool's fd arrives and is mapped; the
 * daemon's put path runs once), then a {@code double[20_000_000]} as a Tensor (create_buffer, copy in,
 * put) into pool memory nobody touched, then deletes it and puts it again (the same pages, now warm).
 * Printed: daemon start and the 1 KiB put (start-up costs), the first and the warm 160 MB put (median of
 * the trials, min-max), GB/s of the first; each option with the copy on one thread and on min(4, CPUs),
 * at least 2, threads ({@code IpcClient.Builder.copyThreads}; the default is 2 on 2 CPUs or more).
 * With {@code --ray PYTHON}, Ray's first {@code ray.put} of the same array into a fresh object store is
 * measured in the same run (PYTHON must import ray and numpy).
 *
 * <p>Run: {@code bin/bench-fresh-put [--trials N] [--ray PYTHON]}.
 */
public final class FreshPutBench {
    private static final int N = 20_000_000;   // 160 MB of doubles
    private static final long BYTES = 8L * N;

    private FreshPutBench() {
    }

    /** One trial's figures, in ms: daemon start, first (tiny) put, first 160 MB put, warm 160 MB put. */
    private record Trial(double startMs, double smallMs, double firstMs, double warmMs) {
    }

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        int trials = a.contains("--trials") ? Integer.parseInt(a.get(a.indexOf("--trials") + 1)) : 5;
        String ray = a.contains("--ray") ? a.get(a.indexOf("--ray") + 1) : null;
        int copyThreads = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
        double[] values = new double[N];
        for (int i = 0; i < N; i++) {
            values[i] = i * 0.5;
        }
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "vineyard-fresh-put-");
        List<String> rows = new ArrayList<>();
        System.out.printf(Locale.ROOT, "first put of 160 MB (Tensor<double>, 20M values) into a fresh daemon, %d trials each, %d CPUs%n",
                trials, Runtime.getRuntime().availableProcessors());
        rows.add(String.format(Locale.ROOT, "%-16s %-15s %7s %9s %11s %23s %6s %12s", "daemon", "client prefault",
                "threads", "start ms", "1 KiB put", "160 MB put ms (min-max)", "GB/s", "warm put ms"));
        try {
            for (String mode : new String[] {"--warm_memory=0", "default", "--reserve_memory"}) {
                for (Prefault p : Prefault.values()) {
                    for (int threads : p == Prefault.MAP_POPULATE ? new int[] {1} : new int[] {1, copyThreads}) {
                        List<Trial> ts = new ArrayList<>();
                        for (int t = 0; t < trials; t++) {
                            ts.add(trial(dir, mode, p, threads, values));
                        }
                        rows.add(row(mode, p, threads, ts));
                    }
                }
            }
            if (ray != null) {
                rows.add(rayRow(ray, trials));
            }
        } finally {
            SdkBench.deleteTree(dir);
        }
        System.out.println();
        rows.forEach(System.out::println);
        System.out.println();
        System.out.println("target (issue 8): first put at least 2x faster than Ray 2.58's first put (76-124 ms there): <= 40-60 ms");
    }

    private static Trial trial(Path dir, String mode, Prefault prefault, int threads, double[] values) throws Exception {
        Path socket = dir.resolve("fresh.sock");
        long t0 = System.nanoTime();
        Process daemon = mode.equals("default") ? SdkBench.startDaemon(socket, "--size=1Gi")
                : SdkBench.startDaemon(socket, "--size=1Gi", mode);
        long t1 = System.nanoTime();
        try (IpcClient client = IpcClient.builder().socket(socket.toString()).prefault(prefault)
                .copyThreads(threads).connect()) {
            // a 1 KiB put first: the pool's fd arrives (and is mapped) with its blob, and the daemon's
            // put path runs once, so the 160 MB put below measures fresh memory, not cold code
            long t2 = System.nanoTime();
            client.delete(client.put(Tensor.of(new double[128])));
            long t3 = System.nanoTime();
            ObjectId id = client.put(Tensor.of(values));
            long t4 = System.nanoTime();
            client.delete(id);
            client.flushReleases();
            client.status();
            long t5 = System.nanoTime();
            ObjectId again = client.put(Tensor.of(values));   // the same pages, now touched
            long t6 = System.nanoTime();
            client.delete(again);
            return new Trial(ms(t1 - t0), ms(t3 - t2), ms(t4 - t3), ms(t6 - t5));
        } finally {
            SdkBench.stop(daemon);
        }
    }

    private static String row(String daemon, Prefault p, int threads, List<Trial> ts) {
        double[] start = ts.stream().mapToDouble(Trial::startMs).toArray();
        double[] small = ts.stream().mapToDouble(Trial::smallMs).toArray();
        double[] first = ts.stream().mapToDouble(Trial::firstMs).toArray();
        double[] warm = ts.stream().mapToDouble(Trial::warmMs).toArray();
        double med = SdkBench.median(first);
        return String.format(Locale.ROOT, "%-16s %-15s %7d %9.0f %11.1f %9.1f (%5.1f-%6.1f) %6.2f %12.1f", daemon,
                p.name().toLowerCase(Locale.ROOT), threads, SdkBench.median(start), SdkBench.median(small), med,
                Arrays.stream(first).min().orElse(0), Arrays.stream(first).max().orElse(0), BYTES / med / 1e6,
                SdkBench.median(warm));
    }

    /** Ray's first put into a fresh object store, per trial a new Ray instance (ray.init + ray.put + shutdown). */
    private static String rayRow(String python, int trials) throws Exception {
        String script = String.join("\n",
                "import time, numpy as np, ray",
                "a = np.arange(" + N + ", dtype=np.float64) * 0.5",
                "ray.init(object_store_memory=1 << 30, num_cpus=1, include_dashboard=False, logging_level='ERROR')",
                "t0 = time.perf_counter(); r = ray.put(a); t1 = time.perf_counter()",
                "del r",
                "t2 = time.perf_counter(); r = ray.put(a); t3 = time.perf_counter()",
                "print('RAY', (t1 - t0) * 1e3, (t3 - t2) * 1e3, flush=True)",
                "ray.shutdown()");
        List<Trial> ts = new ArrayList<>();
        for (int t = 0; t < trials; t++) {
            Process p = new ProcessBuilder(python, "-c", script).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("RAY ")) {
                        String[] f = line.split(" ");
                        ts.add(new Trial(0, 0, Double.parseDouble(f[1]), Double.parseDouble(f[2])));
                    }
                }
            }
            p.waitFor();
        }
        if (ts.isEmpty()) {
            return "ray: " + python + " printed no figures (does it import ray and numpy?)";
        }
        double[] first = ts.stream().mapToDouble(Trial::firstMs).toArray();
        double[] warm = ts.stream().mapToDouble(Trial::warmMs).toArray();
        double med = SdkBench.median(first);
        return String.format(Locale.ROOT, "%-16s %-15s %7s %9s %11s %9.1f (%5.1f-%6.1f) %6.2f %12.1f", "Ray 2.58 ray.put",
                "-", "-", "-", "-", med, Arrays.stream(first).min().orElse(0), Arrays.stream(first).max().orElse(0),
                BYTES / med / 1e6, SdkBench.median(warm));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
