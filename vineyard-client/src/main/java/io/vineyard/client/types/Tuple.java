package io.vineyard.client.types;

import java.util.List;

/**
 * A fixed group of objects, vineyard's {@code vineyard::Tuple} (the keys of {@link Sequence}).
 *
 * @param elements the elements
 */
public record Tuple(List<Object> elements) implements AutoCloseable {
    /** Copies the list. */
    public Tuple {
        elements = List.copyOf(elements);
    }

    /** Closes the elements that hold shared memory. */
    @Override
    public void close() {
        closeAll(elements);
    }

    static void closeAll(List<Object> elements) {
        for (Object e : elements) {
            if (e instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            }
        }
    }
}
