package io.vineyard.server;

import io.vineyard.server.logging.DaemonLogging;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code vineyardd}'s entry point: parses vineyard's flags, sets up logging, starts the daemon, and
 * stops it cleanly on SIGTERM/SIGINT (the socket file is removed, the exit status is 0).
 *
 * <p>stdout carries exactly two lines, {@code vineyardd ready: ...} once the sockets accept (tests and
 * scripts wait for it) and {@code vineyardd stopped}; everything else is the log, on stderr (and in
 * {@code --log_dir}).
 */
public final class Vineyardd {
    private Vineyardd() {
    }

    public static void main(String[] args) {
        ServerConfig config;
        Path logFile;
        try {
            config = ServerConfig.parse(args);
            logFile = DaemonLogging.apply(config.logging());
        } catch (ServerConfig.HelpRequested h) {
            System.out.print(ServerConfig.usage());
            return;
        } catch (ServerConfig.VersionRequested v) {
            System.out.println(Version.line());
            return;
        } catch (IllegalArgumentException e) {
            System.err.println("vineyardd: " + e.getMessage());
            System.exit(2);
            return;
        }
        Logger log = LoggerFactory.getLogger(Vineyardd.class);
        config.warnings().forEach(log::warn);
        VineyardServer server;
        try {
            server = new VineyardServer(config);
            server.start();
        } catch (Exception e) {
            log.error("cannot start: {}", e.getMessage());
            System.exit(1);
            return;
        }
        // SIGTERM/SIGINT run the shutdown hooks: stop cleanly, then exit 0 as vineyardd does (the
        // JVM would report 143/130); halting here is safe, this is the daemon's only hook
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            log.info("stopping on a signal");
            server.close();
            System.out.println("vineyardd stopped");
            System.out.flush();
            Runtime.getRuntime().halt(0);
        }));
        System.out.println("vineyardd ready: socket " + config.socketPath() + ", pool " + config.sizeBytes()
                + " bytes, rpc " + (config.rpc() ? server.context().rpcEndpoint() : "off") + ", meta " + config.meta()
                + ", pid " + ProcessHandle.current().pid());
        System.out.flush();
        StartupWarmup.startInBackground(config);
        logSettings(log, config, server, logFile);
        try {
            new CountDownLatch(1).await(); // until a signal's shutdown hook halts the JVM
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.exit(0);
    }

    /** The start-up settings, at info (after the ready line, which stays the first line of output). */
    private static void logSettings(Logger log, ServerConfig c, VineyardServer server, Path logFile) {
        log.info("{} started: socket {}, pool {} bytes{}, rpc {}, metrics {}, meta {}, deployment {}, extensions {}, "
                        + "compression {}, htpasswd {}, spin {} us, stream threshold {}%, spill {}, warm-up {}, log {}{}",
                Version.line(), c.socketPath(), c.sizeBytes(), c.reserveMemory() ? " (reserved)" : "",
                c.rpc() ? server.context().rpcEndpoint() : "off",
                server.metricsUrl() == null ? "off" : server.metricsUrl(), c.meta(), c.deployment(),
                c.extensions() ? "on" : "off", c.compression() ? "on" : "off",
                c.htpasswd().isEmpty() ? "off" : c.htpasswd(), c.spinMicros(), c.streamThreshold(),
                c.spill().enabled() ? c.spill().path() + " (from " + c.spill().upperRate() + " down to "
                        + c.spill().lowerRate() + " of the pool)" : "off", c.warmup() ? "on" : "off",
                c.logging().describe(), logFile == null ? "" : " (" + logFile + ")");
    }
}
