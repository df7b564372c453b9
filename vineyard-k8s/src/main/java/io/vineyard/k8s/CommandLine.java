package io.vineyard.k8s;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The command lines of this module's programs: {@code --flag value} or {@code --flag=value}, {@code -h} /
 * {@code --help} printing the usage, and exit code 2 (with the reason and the usage on stderr) for a usage
 * error.
 */
final class CommandLine {
    private final String program;
    private final String usage;

    CommandLine(String program, String usage) {
        this.program = program;
        this.usage = usage;
    }

    /**
     * The flags given, by name ({@code --port}); null after printing the usage for {@code --help}. Exits 2
     * for a flag not in {@code known} or without a value.
     */
    Map<String, String> parse(String[] argv, Set<String> known) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (name.equals("-h") || name.equals("--help")) {
                System.out.println(usage);
                return null;
            }
            String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : i + 1 < argv.length ? argv[++i] : null;
            if (!known.contains(name)) {
                fail("unknown flag " + name);
            }
            if (value == null) {
                fail("flag " + name + " needs a value");
            }
            flags.put(name, value);
        }
        return flags;
    }

    /** {@code v} as a port 0-65535, else exit 2. */
    int port(String v) {
        return (int) number("--port", v, 0, 65535);
    }

    /** {@code v} as a number in {@code [min, max]}, else exit 2 naming {@code flag}. */
    long number(String flag, String v, long min, long max) {
        try {
            long n = Long.parseLong(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        fail(flag + " must be " + min + "-" + max + ", not '" + v + "'");
        return -1;
    }

    /** Prints {@code why} and the usage to stderr and exits 2. */
    void fail(String why) {
        System.err.println(program + ": " + why + "\n" + usage);
        System.exit(2);
    }

    /** Prints {@code ready} (the line scripts wait for) and serves until the JVM is told to stop, then closes {@code server}. */
    static void serveUntilShutdown(String ready, AutoCloseable server) throws InterruptedException {
        System.out.println(ready);
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("closing: " + e.getMessage());
            }
            stopped.countDown();
        }));
        stopped.await();
    }
}
