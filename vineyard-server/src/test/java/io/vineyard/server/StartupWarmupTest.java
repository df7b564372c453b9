package io.vineyard.server;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StartupWarmupTest {
    private static Set<String> openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    @Test
    void theWarmupPassesFdsOverItsOwnSocketPairAndLeavesNoFdOpen() throws IOException {
        StartupWarmup.run(); // the first run may open the JVM's own lazily made fds: not counted
        Set<String> before = openFds();
        StartupWarmup.run(); // throws when a passed fd does not arrive
        StartupWarmup.run();
        assertEquals(before, openFds(), "the socket pair and every passed fd are closed again");
    }
}
