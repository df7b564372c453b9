package io.vineyard.dist;

import io.vineyard.client.DocSnippets;
import io.vineyard.client.IpcClient;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon distribution (the tarball this module packages) unpacked into a temporary directory far
 * from the source tree: its launchers run through symlinks in another directory put on PATH, its jars
 * run with {@code java -jar}, and the Java SDK and vineyardctl work against the daemon it starts.
 */
class DistributionTest {
    private static final String VERSION = System.getProperty("vineyard.version");
    private static final String JAVA_HOME = System.getProperty("java.home");

    private Path root;
    private Path home;
    private Path onPath;
    private final List<Process> daemons = new ArrayList<>();

    @BeforeEach
    void unpack() throws Exception {
        Path tarball = Path.of(System.getProperty("vineyard.dist.tarball"));
        assertTrue(Files.isRegularFile(tarball), "packaged first (mvn package): " + tarball);
        root = Files.createTempDirectory("vineyard-dist-");
        Command.Result untar = Command.of("tar", "xzf", tarball.toString(), "-C", root.toString()).run(60);
        assertEquals(0, untar.exit(), untar::toString);
        home = root.resolve("vineyard-java-" + VERSION);
        onPath = Files.createDirectories(root.resolve("path-bin"));
        for (String tool : List.of("vineyardd", "vineyardctl")) {
            Files.createSymbolicLink(onPath.resolve(tool), home.resolve("bin").resolve(tool));
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : daemons) {
            p.destroy();
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        try (var files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** A command as a user with the symlinks on PATH runs it, from the temporary directory. */
    private Command tool(String... args) {
        return Command.of(args).in(root).env("JAVA_HOME", JAVA_HOME)
                .env("PATH", onPath + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    }

    /** Starts a daemon and waits (at most 60 s) for its ready line. */
    private Process startDaemon(Command command) throws Exception {
        Process p = command.mergeErr().start();
        daemons.add(p);
        StringBuilder log = new StringBuilder();
        CompletableFuture<Boolean> ready = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (log) {
                        log.append(line).append('\n');
                    }
                    if (line.contains("vineyardd ready")) {
                        ready.complete(true);
                    }
                }
            } catch (IOException e) {
                // the daemon's output closed
            }
            ready.complete(false);
        });
        assertTrue(ready.get(60, TimeUnit.SECONDS), () -> "vineyardd did not start: " + log);
        synchronized (log) {
            assertFalse(log.toString().contains("WARNING"), () -> "no JVM warnings: " + log);
            assertFalse(log.toString().contains("SLF4J"), () -> "one SLF4J provider, and no word from SLF4J: " + log);
        }
        return p;
    }

    @Test
    void theDistributionHoldsLaunchersAndJarsOnly() throws Exception {
        assertFalse(Files.exists(home.resolve("pom.xml")));
        assertTrue(Files.isExecutable(home.resolve("bin/vineyardd")) && Files.isExecutable(home.resolve("bin/vineyardctl")));
        for (String jar : List.of("vineyard-server", "vineyard-ctl", "vineyard-client", "vineyard-common", "picocli-4.7.7")) {
            try (var lib = Files.list(home.resolve("lib"))) {
                assertTrue(lib.anyMatch(p -> p.getFileName().toString().startsWith(jar)), jar + " in lib/");
            }
        }
    }

    @Test
    void theDaemonStartedThroughASymlinkOnPathServesTheSdkAndVineyardctl() throws Exception {
        Path socket = root.resolve("run/vineyard.sock");
        Process daemon = startDaemon(tool(onPath.resolve("vineyardd").toString(), "--socket=" + socket,
                "--size=64Mi", "--norpc"));
        try (IpcClient client = IpcClient.connect(socket.toString())) {
            client.putNamed(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), "t");
        }
        Command.Result ls = tool(onPath.resolve("vineyardctl").toString(), "--socket", socket.toString(), "ls", "objects").run(60);
        assertEquals(0, ls.exit(), ls::toString);
        assertTrue(ls.out().matches("o[0-9a-f]{16}\tvineyard::Tensor<double>\t48\tt\n"), ls::toString);
        assertEquals("", ls.err());

        Command.Result get = tool(onPath.resolve("vineyardctl").toString(), "get", "object", "t", "--json")
                .env("VINEYARD_IPC_SOCKET", socket.toString()).run(60);
        assertEquals(0, get.exit(), get::toString);
        assertTrue(get.out().contains("\"head\" : [ 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 ]"), get::toString);

        daemon.destroy();   // SIGTERM
        assertTrue(daemon.waitFor(15, TimeUnit.SECONDS));
        assertFalse(Files.exists(socket), "the daemon removed its socket on SIGTERM");
    }

    /**
     * README.md's install block line by line, with {@code HOME} in the temporary directory, this run's
     * socket, and the JDK running the tests first on PATH; the line ending in {@code &} starts the daemon,
     * and the next line runs once it is ready.
     */
    @Test
    void theReadmeInstallBlockRuns() throws Exception {
        Path readme = DocSnippets.repo().resolve("README.md");
        String text = Files.readString(readme);
        int at = text.indexOf("<!-- distribution: run by DistributionTest -->");
        assertTrue(at >= 0, "the marked block in README.md");
        int start = text.indexOf("```sh\n", at) + "```sh\n".length();
        List<String> lines = text.substring(start, text.indexOf("```", start)).lines().toList();
        assertTrue(lines.size() >= 5, lines.toString());
        Path socket = root.resolve("readme.sock");
        String path = Path.of(JAVA_HOME, "bin") + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        Path userHome = Files.createDirectories(root.resolve("home"));
        for (String line : lines) {
            String cmd = line.replace("/tmp/vineyard.sock", socket.toString());
            Command c = Command.of("bash", "-euo", "pipefail", "-c", cmd.endsWith("&")
                    ? "exec " + cmd.substring(0, cmd.length() - 1) : cmd)
                    .in(DocSnippets.repo()).env("HOME", userHome.toString()).env("PATH", path);
            if (cmd.endsWith("&")) {
                startDaemon(c);
                continue;
            }
            Command.Result r = c.run(120);
            assertEquals(0, r.exit(), () -> line + "\n" + r);
            if (line.contains("stat")) {
                assertTrue(r.out().contains("memory_limit\t" + (256L << 20)), r::toString);
            }
        }
        assertTrue(Files.isSymbolicLink(userHome.resolve(".local/bin/vineyardd")));
    }

    @Test
    void theJarsRunWithJavaDashJar() throws Exception {
        String java = Path.of(JAVA_HOME, "bin", "java").toString();
        Path socket = root.resolve("jar.sock");
        startDaemon(Command.of(java, "-jar", home.resolve("lib/vineyard-server-" + VERSION + ".jar").toString(),
                "--socket=" + socket, "--size=64Mi", "--norpc").in(root));
        Command.Result stat = Command.of(java, "-jar", home.resolve("lib/vineyard-ctl-" + VERSION + ".jar").toString(),
                "--socket", socket.toString(), "stat").in(root).run(60);
        assertEquals(0, stat.exit(), stat::toString);
        assertTrue(stat.out().contains("memory_limit\t" + (64L << 20)), stat::toString);
        assertEquals("", stat.err(), "no native-access warning: the manifest enables it");

        Command.Result version = Command.of(java, "-jar", home.resolve("lib/vineyard-ctl-" + VERSION + ".jar").toString(),
                "--version").run(60);
        assertTrue(version.out().startsWith("vineyardctl " + VERSION), version::toString);
    }
}
