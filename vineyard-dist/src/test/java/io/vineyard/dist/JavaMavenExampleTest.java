package io.vineyard.dist;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.DocSnippets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SDK as another Maven project uses it, from a fresh copy of the sources: with nothing of ours
 * installed (as after {@code bin/demo} on a fresh machine) run the documented single-test command
 * (without {@code -am} it failed there: the modules it needs were not in any repository), install the
 * SDK with the documented one-liner, then build {@code examples/java-maven} offline against it and run it against a
 * real daemon. Everything runs against a local repository of its own (a fresh directory whose entries
 * link to the user's {@code ~/.m2} repository, all but {@code io/vineyard}): the third-party artifacts
 * come from {@code ~/.m2}, offline, and nothing of ours is written there.
 */
@Tag("slow")
class JavaMavenExampleTest {
    /** README.md's install one-liner. */
    static final String INSTALL = "mvn -q install -DskipTests -pl vineyard-client -am";
    /** docs/java-sdk.md's single-test command. */
    static final String SINGLE_TEST = "mvn -o -q -pl vineyard-client -am test -Dtest=SdkTest -Dsurefire.failIfNoSpecifiedTests=false";
    private static final Set<String> NOT_COPIED = Set.of("target", ".git", "python", "examples", ".idea");

    private Path work;
    private Path repo;

    @BeforeEach
    void setUp() throws IOException {
        work = Files.createTempDirectory("vineyard-maven-");
        repo = Files.createDirectories(work.resolve("m2"));
        Path shared = Path.of(System.getProperty("vineyard.m2"));
        try (var entries = Files.list(shared)) {
            for (Path e : entries.toList()) {
                if (e.getFileName().toString().equals("io") && Files.isDirectory(e)) {
                    Path io = Files.createDirectories(repo.resolve("io"));
                    try (var groups = Files.list(e)) {
                        for (Path g : groups.toList()) {
                            if (!g.getFileName().toString().equals("vineyard")) {
                                Files.createSymbolicLink(io.resolve(g.getFileName()), g);
                            }
                        }
                    }
                } else {
                    Files.createSymbolicLink(repo.resolve(e.getFileName()), e);
                }
            }
        }
    }

    @AfterEach
    void cleanUp() throws IOException {
        try (var files = Files.walk(work)) {
            // symlinks are deleted, never followed
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** Copies the source tree without build output, VCS data or the Python client. */
    private static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path rel = from.relativize(f);
                boolean skipped = false;
                for (Path part : rel) {
                    skipped |= NOT_COPIED.contains(part.toString());
                }
                if (skipped) {
                    continue;
                }
                Path target = to.resolve(rel.toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** A documented mvn command line, run offline against the private repository. */
    private Command.Result mvn(Path dir, String commandLine) throws Exception {
        List<String> args = new ArrayList<>(Arrays.asList(commandLine.split(" ")));
        assertEquals("mvn", args.get(0));
        args.set(0, Path.of(System.getProperty("maven.home"), "bin", "mvn").toString());
        if (!args.contains("-o")) {
            args.add("-o");
        }
        args.addAll(List.of("-B", "-ntp", "-Dstyle.color=never", "-Dmaven.repo.local=" + repo));
        Command.Result r = Command.of(args).in(dir).env("JAVA_HOME", System.getProperty("java.home"))
                .env("MAVEN_OPTS", "--sun-misc-unsafe-memory-access=allow").run(900);
        assertEquals(0, r.exit(), () -> String.join(" ", args) + " in " + dir + ":\n" + r);
        return r;
    }

    @Test
    void theSdkInstallsAndAnotherMavenProjectBuildsAndRunsAgainstIt() throws Exception {
        Path root = DocSnippets.repo();
        assertTrue(Files.readString(root.resolve("README.md")).contains(INSTALL), "README shows " + INSTALL);
        assertTrue(Files.readString(root.resolve("examples/java-maven/README.md")).contains(INSTALL));
        assertTrue(Files.readString(root.resolve("docs/java-sdk.md")).contains(SINGLE_TEST), "docs show " + SINGLE_TEST);

        Path src = work.resolve("vineyard-java");
        copyTree(root, src);
        // as after bin/demo on a fresh machine: nothing of ours installed (bin/demo only packages, into target/)
        assertFalse(Files.exists(repo.resolve("io/vineyard")), "nothing of ours in the repository yet");
        mvn(src, SINGLE_TEST);
        mvn(src, INSTALL);
        Path installed = repo.resolve("io/vineyard/vineyard-client/0.1.0-SNAPSHOT/vineyard-client-0.1.0-SNAPSHOT.jar");
        assertTrue(Files.isRegularFile(installed), "installed: " + installed);

        Path example = work.resolve("java-maven");
        copyTree(root.resolve("examples/java-maven"), example);
        mvn(example, "mvn -q package");
        Path jar = example.resolve("target/vineyard-example-1.0.jar");
        assertTrue(Files.isRegularFile(example.resolve("target/lib/vineyard-client-0.1.0-SNAPSHOT.jar")));

        try (DaemonProcess daemon = DaemonProcess.start("--size=64Mi")) {
            long before = daemon.memoryUsage();
            Command.Result run = Command.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", jar.toString(), daemon.socket()).in(example).run(120);
            assertEquals(0, run.exit(), run::toString);
            assertTrue(run.out().matches("(?s)put o[0-9a-f]{16} as 'example-tensor', read back Tensor<double>\\[2, 3] C: "
                    + "t\\[1]\\[2] = 6\\.0\ndeleted o[0-9a-f]{16}; the daemon uses \\d+ bytes\n"), run::toString);
            assertEquals("", run.err(), "no warnings");
            assertEquals(before, daemon.memoryUsage(), "the example deleted what it put");
        }
    }
}
