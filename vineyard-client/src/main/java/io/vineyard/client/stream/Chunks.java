package io.vineyard.client.stream;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Supplier;

/** An iterator over a reader's {@code next()} (null at the end), fetching one chunk ahead of {@code next()}. */
final class Chunks<T> implements Iterator<T> {
    private final Supplier<T> source;
    private T ahead;
    private boolean ended;

    Chunks(Supplier<T> source) {
        this.source = source;
    }

    @Override
    public boolean hasNext() {
        if (ahead == null && !ended) {
            ahead = source.get();
            ended = ahead == null;
        }
        return ahead != null;
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the stream has ended");
        }
        T out = ahead;
        ahead = null;
        return out;
    }
}
