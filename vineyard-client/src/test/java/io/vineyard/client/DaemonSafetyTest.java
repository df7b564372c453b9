package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import org.junit.jupiter.api.Test;
import org.mindrot.jbcrypt.BCrypt;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The daemon's logging, its glog flags and its safe defaults, on real daemons: RPC on loopback unless
 * told otherwise, {@code --htpasswd} on both IPC and RPC, and no secret in a log line.
 */
class DaemonSafetyTest {
    /** timestamp, level, thread, class: {@code 2026-12-01T23:12:30.097Z DEBUG [vineyard-conn-1] ClientConnection: }. */
    private static final String LINE_PREFIX = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S* ";

    private static ObjectNode msg(String type) {
        ObjectNode m = Json.object();
        m.put("type", type);
        return m;
    }

    /** A bare connection to the daemon's socket or RPC port: sends anything, reads one reply. */
    private static RawClient open(DaemonProcess d, boolean tcp) {
        return tcp ? RawClient.tcp(d.rpcPort(), 20_000) : new RawClient(d.socket(), 20_000);
    }

    private static ObjectNode register(String user, String password) {
        ObjectNode r = msg("register_request");
        r.put("version", "0.24.4");
        r.put("store_type", "Normal");
        if (user != null) {
            r.put("username", user);
            r.put("password", password);
        }
        return r;
    }

    @Test
    void refusedRequestsAndAbnormalDisconnectsAreLoggedAtDebugWithoutEscapeCodes() throws Exception {
        // DaemonProcess runs daemons with VINEYARDD_DEBUG=1, which is --v=1
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi")) {
            try (RawClient s = open(d, false)) {
                assertEquals("register_reply", s.send(register(null, null)).get("type").asText());
                assertEquals(1, s.send(msg("no_such_request\u001b[31m")).get("code").asInt());
            }
            try (RawClient s = open(d, false)) {
                // a frame that announces 100 bytes and sends 5, then the peer is gone
                ByteBuffer header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100);
                s.socket.writeRaw(header.array());
                s.socket.writeRaw("{\"ty".getBytes(StandardCharsets.US_ASCII));
            }
            String log = MetricsEndpointTest.awaitLog(d, Pattern.compile("ended abnormally"));
            assertTrue(Pattern.compile("(?m)^" + LINE_PREFIX + "DEBUG \\[vineyard-conn-\\d+] ClientConnection: ipc connection \\d+ "
                    + "refused no_such_request\\?\\[31m: Got unexpected command").matcher(log).find(), log);
            assertTrue(Pattern.compile("(?m)^" + LINE_PREFIX + "DEBUG .* ipc connection \\d+ ended abnormally: ").matcher(log).find(), log);
            assertTrue(Pattern.compile("(?m)^" + LINE_PREFIX + "INFO  \\[main] Vineyardd: vineyardd version 0\\.24\\.4 .* started: "
                    + "socket .*, rpc 127\\.0\\.0\\.1:\\d+, metrics off, .*htpasswd off").matcher(log).find(),
                    "start-up settings at info: " + log);
            assertFalse(log.contains("\u001b"), "no terminal escape codes: " + log);
            assertFalse(log.contains("SLF4J"), "no SLF4J warnings: " + log);
        }
    }

    @Test
    void glogFlagsStartTheDaemonAsVineyardsDeploymentsPassThem() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--v=0", "--logtostderr", "--alsologtostderr",
                "--minloglevel=0", "--stderrthreshold=0")) {
            assertTrue(d.connect().registerReply().has("instance_id"));
            assertTrue(MetricsEndpointTest.awaitLog(d, Pattern.compile(" started: ")).contains("log debug"),
                    "VINEYARDD_DEBUG=1 still means debug");
        }
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--minloglevel=1")) {
            try (RawClient s = open(d, false)) {
                s.send(register(null, null));
                s.send(msg("no_such_request")); // would be logged at debug
            }
            d.connect().close();
            assertFalse(Pattern.compile(" (INFO|DEBUG) ").matcher(d.log()).find(), "warnings and errors only: " + d.log());
            assertTrue(d.log().contains("vineyardd ready: socket "), "the ready line is unchanged: " + d.log());
        }
    }

    @Test
    void logDirGetsAFileAndStderrOnlyWhatReachesTheThreshold() throws Exception {
        Path dir = Files.createTempDirectory("vineyard-logs-").resolve("nested");
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--log_dir=" + dir, "--stderrthreshold=2",
                "--etcd_endpoint=http://127.0.0.1:2379")) {
            try (RawClient s = open(d, false)) {
                s.send(register(null, null));
                s.send(msg("no_such_request"));
            }
            List<Path> files;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String text = "";
            do {
                try (Stream<Path> list = Files.list(dir)) {
                    files = list.toList();
                }
                if (files.size() == 1) {
                    text = Files.readString(files.get(0));
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            } while (!text.contains("refused no_such_request") && System.nanoTime() < deadline);
            assertEquals(1, files.size(), "one log file: " + files);
            assertTrue(files.get(0).getFileName().toString().matches("vineyardd\\..+\\.log\\.\\d{8}-\\d{6}\\.\\d+"),
                    "glog's name without the severity: " + files.get(0));
            assertTrue(text.contains(" started: "), text);
            assertTrue(text.contains("WARN  [main] Vineyardd: ignoring --etcd_endpoint"), text);
            assertTrue(text.contains("refused no_such_request"), text);
            assertFalse(d.log().contains(" started: ") || d.log().contains("ignoring"), "stderr gets errors only: " + d.log());
        } finally {
            try (Stream<Path> walk = Files.walk(dir.getParent())) {
                walk.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aLogbackConfigurationOfTheUsersReplacesOurs() throws Exception {
        Path dir = Files.createTempDirectory("vineyard-logback-");
        Path xml = dir.resolve("logback.xml");
        Files.writeString(xml, """
                <configuration>
                  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>CUSTOM %level %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="out"/></root>
                </configuration>
                """);
        Process p = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                "-Dlogback.configurationFile=" + xml, "-cp", System.getProperty("java.class.path"),
                "io.vineyard.server.Vineyardd", "--socket=" + dir.resolve("v.sock"), "--size=64Mi", "--norpc")
                .redirectErrorStream(true).start();
        // bounded: a daemon that never prints the line is stopped after 30 s, which ends its output
        java.util.concurrent.CompletableFuture.runAsync(p::destroy,
                java.util.concurrent.CompletableFuture.delayedExecutor(30, TimeUnit.SECONDS));
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            StringBuilder seen = new StringBuilder();
            while ((line = out.readLine()) != null && !line.startsWith("CUSTOM INFO vineyardd version")) {
                seen.append(line).append('\n'); // the daemon's output ends (EOF) if it dies
            }
            assertTrue(line != null, "the user's pattern formats the start-up line: " + seen);
        } finally {
            p.destroy();
            assertTrue(p.waitFor(15, TimeUnit.SECONDS));
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Collections.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void aLogDirThatCannotBeMadeIsRefusedAtStart() throws Exception {
        Process p = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "io.vineyard.server.Vineyardd", "--log_dir=/proc/vineyard-logs")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.startsWith("vineyardd: --log_dir /proc/vineyard-logs cannot be created"), out);
    }

    @Test
    void versionAndShortHelpExitZero() throws Exception {
        for (String flag : List.of("--version", "-h")) {
            Process p = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), "io.vineyard.server.Vineyardd", flag).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            if (flag.equals("--version")) {
                assertTrue(out.matches("vineyardd version 0\\.24\\.4 \\(vineyard-java [^)]+\\)\n"), out);
            } else {
                assertTrue(out.contains("Usage: bin/vineyardd [flags]") && out.contains("--rpc_host"), out);
            }
        }
    }

    @Test
    void rpcListensOnLoopbackUnlessToldAndReportsItsRealAddress() throws Exception {
        InetAddress external = externalAddress();
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi"); IpcConnection c = d.connect()) {
            String endpoint = "127.0.0.1:" + d.rpcPort();
            assertEquals(endpoint, c.registerReply().get("rpc_endpoint").asText());
            assertEquals(endpoint, c.request(msg("cluster_meta")).get("meta").get("i0").get("rpc_endpoint").asText());
            assertTrue(d.log().contains("rpc " + endpoint + ", "), "the ready line says where: " + d.log());
            try (IpcConnection rpc = IpcConnection.connectTcp("127.0.0.1", d.rpcPort(), 10_000)) {
                assertEquals(endpoint, rpc.registerReply().get("rpc_endpoint").asText());
            }
            if (external != null) {
                assertFalse(reachable(external, d.rpcPort()), "not reachable on " + external);
            }
        }
        assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--rpc_host=0.0.0.0"); IpcConnection c = d.connect()) {
            assertTrue(reachable(external, d.rpcPort()), "reachable on " + external + " with --rpc_host=0.0.0.0");
            String reported = c.registerReply().get("rpc_endpoint").asText();
            assertEquals(InetAddress.getLocalHost().getHostName() + ":" + d.rpcPort(), reported,
                    "every interface: the host name, as vineyard reports it");
        }
    }

    @Test
    void htpasswdGuardsIpcAndRpcAndNoSecretReachesTheLog() throws Exception {
        String password = "s3cret-Pa55-7781";
        String wrong = "wr0ng-Pa55-4410";
        Path dir = Files.createTempDirectory("vineyard-auth-");
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, "alice:" + BCrypt.hashpw(password, BCrypt.gensalt(5)).replace("$2a$", "$2y$") + "\n");
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--htpasswd=" + htpasswd)) {
            for (boolean tcp : new boolean[] {false, true}) {
                String where = tcp ? "over RPC" : "over IPC";
                try (RawClient s = open(d, tcp)) {
                    assertEquals(1, s.send(msg("instance_status_request")).get("code").asInt(), "nothing before register " + where);
                    assertEquals(34, s.send(register(null, null)).get("code").asInt(), "no credentials " + where);
                    assertEquals(34, s.send(register("alice", wrong)).get("code").asInt(), "a wrong password " + where);
                    assertEquals(34, s.send(register("mallory", password)).get("code").asInt(), "an unknown user " + where);
                    assertEquals(1, s.sendBody(("{\"type\":\"register_request\",\"username\":\"alice\",\"password\":" + wrong)
                            .getBytes(StandardCharsets.UTF_8)).get("code").asInt(), "a malformed register " + where);
                    assertEquals(1, s.send(msg("instance_status_request")).get("code").asInt(), "still not registered " + where);
                    assertEquals("register_reply", s.send(register("alice", password)).get("type").asText(), where);
                    assertTrue(s.send(msg("instance_status_request")).has("meta"), "registered " + where);
                }
            }
            String log = MetricsEndpointTest.awaitLog(d, Pattern.compile("(?s)rpc connection.*refused register_request.*"
                    + "rpc connection \\d+ refused <invalid>"));
            assertFalse(log.contains(password) || log.contains(wrong), "no password in the log: " + log);
            assertTrue(log.contains("htpasswd " + htpasswd), "the start-up line names the file: " + log);
            ProcessHandle daemon = ProcessHandle.of(d.pid()).orElseThrow();
            assertEquals(0, daemon.children().count(), "no htpasswd process was spawned with a password on its argv");
            assertFalse(String.join(" ", daemon.info().arguments().orElse(new String[0])).contains(password));
        } finally {
            Files.deleteIfExists(htpasswd);
            Files.deleteIfExists(dir);
        }
    }

    /** An IPv4 address of this machine that is not loopback, or null. */
    private static InetAddress externalAddress() throws IOException {
        List<InetAddress> found = new ArrayList<>();
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nic.isUp() && !nic.isLoopback()) {
                nic.inetAddresses().filter(a -> a instanceof Inet4Address).forEach(found::add);
            }
        }
        return found.isEmpty() ? null : found.get(0);
    }

    private static boolean reachable(InetAddress address, int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(address, port), 2000);
            return true;
        } catch (IOException e) {
            return false; // refused: nothing listens there
        }
    }
}
