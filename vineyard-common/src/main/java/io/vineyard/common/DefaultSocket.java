package io.vineyard.common;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The IPC socket a daemon listens on and a client connects to when neither is told one: the daemon's
 * {@code --socket} default and the SDKs' no-argument connect share this one rule.
 */
public final class DefaultSocket {
    /** The environment variable vineyard's clients read first. */
    public static final String ENV = "VINEYARD_IPC_SOCKET";

    private DefaultSocket() {
    }

    /**
     * {@code $XDG_RUNTIME_DIR/vineyard/vineyard.sock} when {@code XDG_RUNTIME_DIR} names a directory,
     * else {@code ~/.local/vineyard/vineyard.sock}.
     */
    public static String daemonDefault() {
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isEmpty() && Files.isDirectory(Path.of(runtime))) {
            return Path.of(runtime, "vineyard", "vineyard.sock").toString();
        }
        return Path.of(System.getProperty("user.home"), ".local", "vineyard", "vineyard.sock").toString();
    }

    /** What a client given no socket connects to: {@code VINEYARD_IPC_SOCKET} if set, else {@link #daemonDefault()}. */
    public static String forClient() {
        String env = System.getenv(ENV);
        return env != null && !env.isEmpty() ? env : daemonDefault();
    }
}
