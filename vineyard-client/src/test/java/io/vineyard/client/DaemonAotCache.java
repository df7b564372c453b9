package io.vineyard.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The JVM command line of the daemons one test JVM starts, with an AOT cache (JDK 25, JEP 483/514)
 * once one is ready: a test suite starts hundreds of daemons, and a daemon started from the cache
 * has its classes loaded and linked and its start-up profiles at hand (about 0.4 of its 1.2 s start
 * on our machines).
 *
 * <p>The first daemon asked for starts a training daemon in the background: it starts with
 * {@code -XX:AOTCacheOutput}, serves a short put/get/delete conversation, and writes the cache as it
 * exits. Daemons started before that is done run without the cache, exactly as before. The cache
 * lives in a temporary directory of this test JVM and is deleted when it exits, so it never outlives
 * the classes it was made from.
 *
 * <p>The JVM refuses a cache made from a class path with a non-empty directory on it, so the daemon's
 * class path is the test class path with each directory (a module's {@code target/classes} and
 * {@code target/test-classes}) packed into a jar of this JVM's temporary directory: the daemon sees
 * the same classes in the same order. When that cannot be done, the daemon runs from the test class
 * path itself and without a cache.
 */
final class DaemonAotCache {
    /** The JVM flags every test daemon runs with. */
    static final List<String> JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow");
    /** System property: {@code false} turns the cache off (every daemon then starts as before). */
    static final String ENABLED = "vineyard.test.daemon_aot";

    /** This JVM's temporary directory: the packed class directories, the cache, the training's files. */
    private static final Path DIR = createDir();
    private static final String CLASSPATH = daemonClasspath();
    /** On unless turned off, and possible unless a directory is still on the class path (packing it failed). */
    private static final boolean POSSIBLE = DIR != null && Boolean.parseBoolean(System.getProperty(ENABLED, "true"))
            && Arrays.stream(CLASSPATH.split(java.io.File.pathSeparator)).noneMatch(e -> Files.isDirectory(Path.of(e)));

    private static Path cache;
    private static volatile Process trainer;
    private static boolean ready;
    private static boolean failed;

    private DaemonAotCache() {
    }

    /** {@code java} and its flags, up to and including the class path, for a daemon with heap {@code heap}. */
    static List<String> command(String heap) {
        List<String> cmd = new ArrayList<>(List.of(DaemonProcess.javaBin()));
        cmd.addAll(JVM_FLAGS);
        cmd.add("-Xmx" + heap);
        Path c = readyCache();
        if (c != null) {
            cmd.add("-XX:AOTCache=" + c);
        }
        cmd.addAll(List.of("-cp", CLASSPATH));
        return cmd;
    }

    /**
     * The cache when it is ready; otherwise null, and the training starts (once) if it has not. A
     * training that fails leaves this JVM's daemons without a cache.
     */
    private static synchronized Path readyCache() {
        if (!POSSIBLE || failed) {
            return null;
        }
        if (ready) {
            return cache;
        }
        if (trainer == null) {
            startTraining();
            return null;
        }
        if (trainer.isAlive()) {
            return null;
        }
        ready = trainer.exitValue() == 0 && sizeOf(cache) > 0;
        failed = !ready;
        return ready ? cache : null;
    }

    private static long sizeOf(Path p) {
        try {
            return p != null && Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Starts the training daemon and, on a background thread, its conversation and its stop. */
    private static void startTraining() {
        Path dir = DIR;
        cache = dir.resolve("vineyardd.aot");
        List<String> cmd = new ArrayList<>(List.of(DaemonProcess.javaBin()));
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(List.of("-Xmx512m", "-XX:AOTCacheOutput=" + cache, "-cp", CLASSPATH, "io.vineyard.server.Vineyardd",
                "--socket=" + dir.resolve("vineyard.sock"), "--size=256Mi", "--rpc_socket_port=0"));
        try {
            trainer = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("trainer.log").toFile()).start();
        } catch (IOException e) {
            failed = true;
            return;
        }
        Process p = trainer;
        Thread.ofPlatform().daemon(true).name("daemon-aot-training").start(() -> train(p, dir));
    }

    /** A short conversation (connect, create, seal, get and delete blobs), then SIGTERM. */
    private static void train(Process p, Path dir) {
        try {
            Path log = dir.resolve("trainer.log");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (p.isAlive() && System.nanoTime() < deadline && !readyLine(log)) {
                Thread.sleep(20); // another process's output file: there is no event to wait on
            }
            if (p.isAlive() && readyLine(log)) {
                try (IpcClient client = IpcClient.connect(dir.resolve("vineyard.sock").toString())) {
                    for (int i = 0; i < 20; i++) {
                        var blob = client.createBlob(4096 + i);
                        var id = blob.seal().id();
                        client.getMeta(id);
                        client.delete(id);
                    }
                    client.status();
                }
            }
        } catch (Exception e) {
            // a failed training only means no cache: the daemons start as without one
        } finally {
            p.destroy();
        }
    }

    private static boolean readyLine(Path log) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(log), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("vineyardd ready:")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path createDir() {
        try {
            Path dir = Files.createTempDirectory("vineyard-test-aot-");
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
                Process p = trainer;
                if (p != null && p.isAlive()) {
                    p.destroyForcibly();   // a training this JVM no longer needs
                }
                deleteTree(dir);
            }));
            return dir;
        } catch (IOException e) {
            return null;
        }
    }

    /** The test class path with every non-empty directory packed into a jar; the class path itself if that fails. */
    private static String daemonClasspath() {
        String full = System.getProperty("java.class.path");
        if (DIR == null) {
            return full;
        }
        List<String> out = new ArrayList<>();
        try {
            for (String entry : full.split(java.io.File.pathSeparator)) {
                Path p = Path.of(entry);
                if (entry.isEmpty() || !Files.exists(p)) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    Path jar = DIR.resolve("classpath-" + out.size() + ".jar");
                    if (pack(p, jar)) {
                        out.add(jar.toString());
                    }
                } else {
                    out.add(entry);
                }
            }
        } catch (IOException e) {
            return full;
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    /** Packs {@code dir}'s files into {@code jar} (stored, not compressed); false when it has none. */
    private static boolean pack(Path dir, Path jar) throws IOException {
        List<Path> files;
        try (var walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        if (files.isEmpty()) {
            return false;
        }
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(jar))) {
            out.setLevel(java.util.zip.Deflater.NO_COMPRESSION);
            for (Path f : files) {
                out.putNextEntry(new java.util.zip.ZipEntry(dir.relativize(f).toString().replace(java.io.File.separatorChar, '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return true;
    }

    private static void deleteTree(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // best effort, at JVM exit
        }
    }
}
