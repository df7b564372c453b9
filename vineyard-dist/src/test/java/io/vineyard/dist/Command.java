package io.vineyard.dist;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A command line run to its end in a directory with extra environment, its output captured. */
final class Command {
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private Path dir;
    private boolean mergeErr;

    private Command(List<String> args) {
        this.args.addAll(args);
    }

    static Command of(String... args) {
        return new Command(List.of(args));
    }

    static Command of(List<String> args) {
        return new Command(args);
    }

    Command in(Path directory) {
        this.dir = directory;
        return this;
    }

    /** Stderr into stdout (one stream to read). */
    Command mergeErr() {
        this.mergeErr = true;
        return this;
    }

    Command env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** The outcome of a run. */
    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    /** Starts the command (stdin closed), without waiting. */
    Process start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(args);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.redirectErrorStream(mergeErr);
        pb.environment().remove("VINEYARD_IPC_SOCKET");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    /** Runs to the end, at most {@code timeoutS} seconds (then killed, and a failed result). */
    Result run(long timeoutS) throws IOException, InterruptedException {
        Process p = start();
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Result(-1, out.join(), err.join() + "\n(killed after " + timeoutS + " s)");
        }
        return new Result(p.exitValue(), out.join(), err.join());
    }

    /** All of {@code in}, read on a thread of its own (a pipe left unread would stall the process). */
    static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, r -> Thread.ofPlatform().daemon().start(r));
    }
}
