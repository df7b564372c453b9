package io.vineyard.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the documentation's Java examples honest: every {@code ```java} block of a Markdown file, and
 * every {@code <pre>{@code ...}</pre>} example of a Javadoc comment, must appear, comments and whitespace
 * aside, in the source of the test that runs it. The socket path literals of the docs stand for the test
 * daemon's socket ({@code SOCKET}).
 */
public final class DocSnippets {
    private DocSnippets() {
    }

    /** The {@code ```java} blocks of {@code markdown}. */
    public static List<String> javaBlocks(Path markdown) throws IOException {
        return blocks(markdown, line -> line, "```java", "```");
    }

    /** The {@code <pre>{@code ...}</pre>} examples of the Javadoc comments of {@code javaSource}. */
    public static List<String> javadocBlocks(Path javaSource) throws IOException {
        return blocks(javaSource, line -> line.replaceFirst("^\\s*\\*( |$)", ""), "<pre>{@code", "}</pre>");
    }

    /** The text between lines {@code open} and {@code close}, each line first passed through {@code text}. */
    private static List<String> blocks(Path file, UnaryOperator<String> text, String open, String close)
            throws IOException {
        List<String> blocks = new ArrayList<>();
        StringBuilder current = null;
        for (String raw : Files.readAllLines(file)) {
            String line = text.apply(raw);
            if (current == null && line.trim().equals(open)) {
                current = new StringBuilder();
            } else if (current != null && line.trim().equals(close)) {
                blocks.add(current.toString());
                current = null;
            } else if (current != null) {
                current.append(line).append('\n');
            }
        }
        return blocks;
    }

    /** Asserts that each of {@code blocks} (from {@code origin}) appears in one of {@code testSources}. */
    public static void assertEveryBlockShown(List<String> blocks, Path origin, Path... testSources) throws IOException {
        assertTrue(!blocks.isEmpty(), origin + " has no example");
        StringBuilder sources = new StringBuilder();
        for (Path p : testSources) {
            sources.append(normalise(Files.readString(p)));
        }
        for (int i = 0; i < blocks.size(); i++) {
            assertTrue(sources.toString().contains(normalise(blocks.get(i))), "example " + i + " of " + origin
                    + " is not what the tests run:\n" + blocks.get(i));
        }
    }

    /** Code without comments, with the docs' socket literals as {@code SOCKET}, whitespace folded. */
    public static String normalise(String code) {
        StringBuilder out = new StringBuilder();
        for (String line : code.split("\n")) {
            int comment = line.indexOf("//");
            out.append(comment >= 0 ? line.substring(0, comment) : line).append(' ');
        }
        return out.toString()
                .replace("\"/var/run/vineyard.sock\"", "SOCKET")
                .replace("\"/path/to/vineyard.sock\"", "SOCKET")
                .replace("\"/tmp/vineyard-a.sock\"", "SOCKET_A") // docs/cluster.md's two daemons
                .replace("\"/tmp/vineyard-b.sock\"", "SOCKET_B")
                .replaceAll("\\s+", "");
    }

    /** Asserts that block {@code index} of {@code markdown} appears in {@code testSource}. */
    public static void assertShown(Path markdown, int index, Path testSource) throws IOException {
        List<String> blocks = javaBlocks(markdown);
        assertTrue(index < blocks.size(), markdown + " has no java block " + index);
        String block = normalise(blocks.get(index));
        String source = normalise(Files.readString(testSource));
        assertTrue(source.contains(block), "java block " + index + " of " + markdown
                + " is not what " + testSource.getFileName() + " runs:\n" + blocks.get(index));
    }

    /** The repository root (tests run in a module directory). */
    public static Path repo() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("docs/java-sdk.md"))) {
            p = p.getParent();
        }
        assertTrue(p != null, "repository root not found");
        return p;
    }
}
