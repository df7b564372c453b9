package io.vineyard.server;

import io.vineyard.server.handler.AdminHandlers;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The daemon's versions: the vineyard protocol it speaks and this implementation's release. */
public final class Version {
    /** The vineyard release whose protocol this daemon speaks (the {@code version} of {@code register_reply}). */
    public static final String PROTOCOL = AdminHandlers.VERSION;
    /** This implementation's version (the Maven project version), or {@code unknown} outside a build. */
    public static final String IMPLEMENTATION = load();

    private Version() {
    }

    /** What {@code --version} prints, as gflags prints a program's version. */
    public static String line() {
        return "vineyardd version " + PROTOCOL + " (vineyard-java " + IMPLEMENTATION + ")";
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
