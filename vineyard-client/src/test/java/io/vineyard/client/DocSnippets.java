package io.vineyard.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the documentation's Java examples honest: every {@code ```java} block of a Markdown file must
 * appear, comments and whitespace aside, in the source of the test that runs it. The socket path
 * literals of the docs stand for the test daemon's socket ({@code SOCKET}).
 */
public final class DocSnippets {
    private DocSnippets() {
    }

    /** The {@code ```java} blocks of {@code markdown}. */
    public static List<String> javaBlocks(Path markdown) throws IOException {
        List<String> blocks = new ArrayList<>();
        StringBuilder current = null;
        for (String line : Files.readAllLines(markdown)) {
            if (current == null && line.trim().equals("```java")) {
                current = new StringBuilder();
            } else if (current != null && line.trim().equals("```")) {
                blocks.add(current.toString());
                current = null;
            } else if (current != null) {
                current.append(line).append('\n');
            }
        }
        return blocks;
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
