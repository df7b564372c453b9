package io.vineyard.server;

import java.util.concurrent.CountDownLatch;

/**
 * {@code vineyardd}'s entry point: parses vineyard's flags, starts the daemon, and stops it cleanly on
 * SIGTERM/SIGINT (the socket file is removed, the exit status is 0).
 */
public final class Vineyardd {
    private Vineyardd() {
    }

    public static void main(String[] args) {
        ServerConfig config;
        try {
            config = ServerConfig.parse(args);
        } catch (ServerConfig.HelpRequested h) {
            System.out.print(ServerConfig.usage());
            return;
        } catch (IllegalArgumentException e) {
            System.err.println("vineyardd: " + e.getMessage());
            System.exit(2);
            return;
        }
        VineyardServer server;
        try {
            server = new VineyardServer(config);
            server.start();
        } catch (Exception e) {
            System.err.println("vineyardd: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        // SIGTERM/SIGINT run the shutdown hooks: stop cleanly, then exit 0 as vineyardd does (the
        // JVM would report 143/130); halting here is safe, this is the daemon's only hook
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            server.close();
            System.out.println("vineyardd stopped");
            System.out.flush();
            Runtime.getRuntime().halt(0);
        }));
        System.out.println("vineyardd ready: socket " + config.socketPath() + ", pool " + config.sizeBytes()
                + " bytes, rpc " + (config.rpc() ? server.context().rpcEndpoint() : "off") + ", meta " + config.meta()
                + ", pid " + ProcessHandle.current().pid());
        System.out.flush();
        try {
            new CountDownLatch(1).await(); // until a signal's shutdown hook halts the JVM
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.exit(0);
    }
}
