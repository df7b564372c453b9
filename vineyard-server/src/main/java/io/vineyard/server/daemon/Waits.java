package io.vineyard.server.daemon;

import io.vineyard.server.meta.MetaStore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Requests waiting for a change, keyed by what they wait for (a name, an object id, a stream, stream
 * memory). A change wakes only the waiters of its key.
 *
 * <p>Guarded by the store lock, with one rule: nothing here makes a system call under the lock. A
 * signal only marks its waiters and queues them; {@link DaemonContext} unparks the queue after it
 * has released the lock. A waiter parks without the lock and re-checks its condition under it.
 */
public final class Waits implements MetaStore.Listener {
    /** What a request waits for. */
    public sealed interface Key permits Name, ObjectId, Stream, StreamMemory {
    }

    /** A name being bound ({@code put_name}, {@code put_object} with a name). */
    public record Name(String name) implements Key {
    }

    /** An object being created (by id). */
    public record ObjectId(long id) implements Key {
    }

    /** A change of one stream: a chunk queued or pulled, a stop, a drop, a reader or writer gone. */
    public record Stream(long id) implements Key {
    }

    /** Stream memory given back (a pulled chunk freed): parked writers of every stream re-check. */
    public record StreamMemory() implements Key {
        public static final StreamMemory KEY = new StreamMemory();
    }

    /** One parked request. */
    public static final class Waiter {
        private final Thread thread;
        private final List<Key> keys;
        private volatile boolean signalled;

        private Waiter(Thread thread, List<Key> keys) {
            this.thread = thread;
            this.keys = keys;
        }

        /** True once a change of one of its keys happened since the last {@link #consumeSignal()}. */
        public boolean consumeSignal() {
            boolean s = signalled;
            signalled = false;
            return s;
        }
    }

    private final Map<Key, List<Waiter>> byKey = new HashMap<>();
    private final List<Waiter> toWake = new ArrayList<>();
    private int count;

    /** Registers the current thread as waiting for any of {@code keys} (under the lock). */
    public Waiter register(Collection<? extends Key> keys) {
        Waiter w = new Waiter(Thread.currentThread(), List.copyOf(keys));
        for (Key k : w.keys) {
            byKey.computeIfAbsent(k, x -> new ArrayList<>(1)).add(w);
        }
        count++;
        return w;
    }

    /** Removes a waiter (under the lock); idempotent. */
    public void cancel(Waiter w) {
        boolean removed = false;
        for (Key k : w.keys) {
            List<Waiter> list = byKey.get(k);
            if (list != null && list.remove(w)) {
                removed = true;
                if (list.isEmpty()) {
                    byKey.remove(k);
                }
            }
        }
        if (removed) {
            count--;
        }
    }

    /** Number of registered waiters (vineyard's {@code deferred_requests}). */
    public int size() {
        return count;
    }

    /** Marks the waiters of {@code key} and queues them to be unparked after the lock is released. */
    public void signal(Key key) {
        List<Waiter> list = byKey.get(key);
        if (list != null) {
            for (Waiter w : list) {
                w.signalled = true;
                toWake.add(w);
            }
        }
    }

    /** Marks and queues every waiter (daemon shutdown). */
    public void signalAll() {
        for (List<Waiter> list : byKey.values()) {
            for (Waiter w : list) {
                w.signalled = true;
                toWake.add(w);
            }
        }
    }

    /** Takes the queued waiters (under the lock); {@link #unpark} them once it is released. */
    List<Waiter> drainQueued() {
        if (toWake.isEmpty()) {
            return List.of();
        }
        List<Waiter> out = new ArrayList<>(toWake);
        toWake.clear();
        return out;
    }

    static void unpark(List<Waiter> waiters) {
        for (Waiter w : waiters) {
            LockSupport.unpark(w.thread);
        }
    }

    @Override
    public void objectCreated(long id) {
        if (!byKey.isEmpty()) {
            signal(new ObjectId(id));
        }
    }

    @Override
    public void nameBound(String name) {
        if (!byKey.isEmpty()) {
            signal(new Name(name));
        }
    }
}
