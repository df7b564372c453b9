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

    /** Closes the elements that hold shared memory (all of them, even when one fails). */
    @Override
    public void close() {
        Members.closeAll(elements);
    }
}
