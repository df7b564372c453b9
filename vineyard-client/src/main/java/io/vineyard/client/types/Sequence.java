package io.vineyard.client.types;

import java.util.List;

/**
 * An ordered list of objects, vineyard's {@code vineyard::Sequence} ({@code size_},
 * {@code __elements_-size}, {@code __elements_-<i>}). Elements are any values with a registered type.
 *
 * @param elements the elements
 */
public record Sequence(List<Object> elements) implements AutoCloseable {
    /** Copies the list. */
    public Sequence {
        elements = List.copyOf(elements);
    }

    /** Closes the elements that hold shared memory (all of them, even when one fails). */
    @Override
    public void close() {
        Members.closeAll(elements);
    }
}
