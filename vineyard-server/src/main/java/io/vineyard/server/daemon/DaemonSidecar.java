package io.vineyard.server.daemon;

import io.vineyard.server.ServerConfig;

import java.util.ServiceLoader;

/**
 * Something a flag starts beside the daemon once it serves, that talks to it as a client does (through
 * its IPC socket), never from inside a request. Implementations live in other modules and are found with
 * {@link ServiceLoader} only when their flag is on, so their dependencies (for {@code --sync_crds}, the
 * Kubernetes client of vineyard-k8s) are not loaded otherwise.
 */
public interface DaemonSidecar {
    /** The flag that starts it, without dashes ({@code sync_crds}). */
    String flag();

    /**
     * Starts it; returns what stops it. Must not block for long: its work runs on its own threads.
     *
     * @throws RuntimeException when it cannot start (bad settings); the daemon then exits with the message
     */
    AutoCloseable start(Context context);

    /**
     * What a sidecar knows of its daemon.
     *
     * @param config     the daemon's flags
     * @param instanceId this instance's id
     * @param hostname   the host name
     * @param nodename   the node name ({@code --nodename}, else the host name)
     */
    record Context(ServerConfig config, long instanceId, String hostname, String nodename) {
    }

    /** The sidecar for {@code flag}, or an exception naming the module it needs. */
    static DaemonSidecar find(String flag, String module) {
        for (DaemonSidecar s : ServiceLoader.load(DaemonSidecar.class)) {
            if (s.flag().equals(flag)) {
                return s;
            }
        }
        throw new IllegalStateException("--" + flag + " needs " + module + " on the daemon's classpath (the distribution's lib/ has it)");
    }
}
