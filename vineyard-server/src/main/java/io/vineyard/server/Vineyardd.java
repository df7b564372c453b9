package io.vineyard.server;

import java.util.concurrent.CountDownLatch;

/**
 * {@code vineyardd}'s entry point: parses vineyard's flags, starts the daemon, and stops it cleanly on
 * SIGTERM/SIGINT (the socket file is removed).
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
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            server.close();
            stopped.countDown();
        }));
        System.out.println("vineyardd ready: socket " + config.socketPath() + ", pool " + config.sizeBytes()
                + " bytes, rpc " + (config.rpc() ? server.rpcEndpoint() : "off") + ", meta " + config.meta()
                + ", pid " + ProcessHandle.current().pid());
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
