package io.vineyard.server.cluster;

import io.vineyard.server.meta.MetaOp;

import java.util.List;

/**
 * Where persisted metadata is shared (spec 6.1): nowhere on the embedded {@code local} backend, an
 * etcd prefix with {@code --meta=etcd}. Handlers commit the backend keys of a change first and apply
 * it to the store only once committed, so a failed commit changes nothing; the replica of other
 * instances' changes arrives through {@link Replica}.
 */
public interface MetaBackend extends AutoCloseable {
    /** {@code local} or {@code etcd}, as the ready line and {@code --meta} say. */
    String name();

    /** Whether persisted metadata goes to a backend other instances read (false: nothing to commit). */
    boolean shared();

    /**
     * Writes {@code ops} to the backend in order, in transactions of at most 127 operations (etcd's
     * default limit is 128), each bounded by the backend's operation timeout.
     *
     * @throws io.vineyard.common.VineyardException with {@code ETCD_ERROR} when the backend does not
     *         take them; the operations before the failing transaction may have been written
     */
    void commit(List<MetaOp> ops);

    /** Returns once the replica has applied everything the backend had when called (vineyard's {@code sync_remote}). */
    void syncRemote();

    @Override
    void close();

    /** The embedded single-instance backend: nothing is shared, nothing to commit. */
    MetaBackend LOCAL = new MetaBackend() {
        @Override
        public String name() {
            return "local";
        }

        @Override
        public boolean shared() {
            return false;
        }

        @Override
        public void commit(List<MetaOp> ops) {
        }

        @Override
        public void syncRemote() {
        }

        @Override
        public void close() {
        }
    };

    /** What the backend needs of the daemon's store: applied under the store lock by the implementation. */
    interface Replica {
        /** Applies keys the backend reported (load or watch). */
        void apply(List<MetaOp> ops);

        /** Forgets what was replicated (before a full reload), keeping this instance's own objects. */
        void forget();

        /** The keys that publish this instance's persisted objects and names again. */
        List<MetaOp> republishOps();

        /** After {@link #republishOps} committed. */
        void republished();
    }
}
