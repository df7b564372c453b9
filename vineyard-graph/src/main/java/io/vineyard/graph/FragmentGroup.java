package io.vineyard.graph;

import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The fragments of one graph, {@code vineyard::ArrowFragmentGroup}, as one instance sees them: the
 * fragments that live on the client's instance are read in place, the others (a graph loaded across a
 * cluster, {@link GraphLoader#load(java.util.List)}) are known by their metadata and location only.
 * Queries by original id go to the fragment that owns the vertex, which must be local. Closing it closes
 * every local fragment.
 *
 * <pre>{@code
 * FragmentGroup g = client.get(groupId, FragmentGroup.class);      // close() it when done
 * List<ArrowFragment.Neighbor> out = g.outNeighbors("person", 42L);
 * long degree = g.outDegree("person", 42L);
 * PageRank.Result ranks = PageRank.run(g, 0.85, 10);                // every fragment local
 * }</pre>
 *
 * <p>A group whose fragments live on several instances is computed on by one worker per instance, each
 * over the fragments of its own instance ({@link #localFragments()}), exchanging the values of outer
 * vertices through an {@link Exchange}: {@link PageRank#runWorker}, {@link Bfs#runWorker}. A worker's
 * rank is {@link #workerIndex()}.
 */
public final class FragmentGroup implements AutoCloseable {
    private final ObjectId id;
    private final List<ArrowFragment> byFid;
    private final List<ObjectMeta> metas;
    private final long[] locations;
    private final long localInstance;
    private final List<Long> instances;
    private final List<ArrowFragment> local;

    FragmentGroup(ObjectId id, List<ArrowFragment> byFid, List<ObjectMeta> metas, long[] locations, long localInstance) {
        this.id = id;
        this.byFid = java.util.Collections.unmodifiableList(new ArrayList<>(byFid));
        this.metas = List.copyOf(metas);
        this.locations = locations.clone();
        this.localInstance = localInstance;
        this.instances = Arrays.stream(locations).distinct().sorted().boxed().toList();
        this.local = byFid.stream().filter(Objects::nonNull).toList();
    }

    /** The group's object id. */
    public ObjectId id() {
        return id;
    }

    /**
     * Every fragment, by fid.
     *
     * @throws VineyardException.ObjectNotExists when some fragment lives on another instance
     */
    public List<ArrowFragment> fragments() {
        requireAllLocal("fragments()");
        return local;
    }

    /** The fragments on this client's instance, by fid (all of them when the group is on one instance). */
    public List<ArrowFragment> localFragments() {
        return local;
    }

    /**
     * Fragment {@code fid}.
     *
     * @throws VineyardException.ObjectNotExists when it lives on another instance
     */
    public ArrowFragment fragment(int fid) {
        ArrowFragment f = byFid.get(fid);
        if (f == null) {
            throw new VineyardException.ObjectNotExists("fragment " + fid + " (" + metas.get(fid).id() + ") of group "
                    + id + " lives on instance i" + locations[fid] + ", not this client's i" + localInstance);
        }
        return f;
    }

    /** True when fragment {@code fid} lives on this client's instance (and is read in place). */
    public boolean isLocal(int fid) {
        return byFid.get(fid) != null;
    }

    /** The instance fragment {@code fid} lives on ({@code frag_instance_id_}). */
    public long location(int fid) {
        return locations[fid];
    }

    /** The metadata of fragment {@code fid}, wherever it lives. */
    public ObjectMeta fragmentMeta(int fid) {
        return metas.get(fid);
    }

    /** The instances the fragments live on, ascending: worker {@code w} of a distributed run is instance {@code instances().get(w)}. */
    public List<Long> instances() {
        return instances;
    }

    /** This client's worker rank in a distributed run: its instance's index in {@link #instances()}, -1 if it holds no fragment. */
    public int workerIndex() {
        return instances.indexOf(localInstance);
    }

    /** The worker rank of the instance fragment {@code fid} lives on. */
    public int workerOf(int fid) {
        return instances.indexOf(locations[fid]);
    }

    /** The number of fragments. */
    public int size() {
        return byFid.size();
    }

    /** True for a directed graph. */
    public boolean directed() {
        return anyLocal("directed()").directed();
    }

    /** Throws unless every fragment lives on this client's instance. */
    void requireAllLocal(String what) {
        for (int f = 0; f < byFid.size(); f++) {
            if (byFid.get(f) == null) {
                throw new VineyardException.ObjectNotExists(what + " needs every fragment of group " + id
                        + " on this client's instance i" + localInstance + ", but fragment " + f + " lives on i"
                        + locations[f] + ": run one worker per instance (PageRank.runWorker, Bfs.runWorker)");
            }
        }
    }

    private ArrowFragment anyLocal(String what) {
        if (local.isEmpty()) {
            throw new VineyardException.ObjectNotExists(what + ": no fragment of group " + id
                    + " lives on this client's instance i" + localInstance + " (instances " + instances + ")");
        }
        return local.getFirst();
    }

    /** The fragment that owns {@code oid} of {@code label} (it must live on this client's instance). */
    public ArrowFragment owner(String label, Object oid) {
        ArrowFragment any = anyLocal("owner of " + oid);
        long gid = any.vertexMap().gid(any.vertexLabel(label), oid);
        if (gid == -1) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, "vertex " + oid + " of label " + label + " is not in the graph");
        }
        return fragment(any.parser().fid(gid));
    }

    /** The fragment id that owns {@code oid} of {@code label}, wherever it lives; -1 when no such vertex. */
    public int ownerFid(String label, Object oid) {
        ArrowFragment any = anyLocal("owner of " + oid);
        long gid = any.vertexMap().gid(any.vertexLabel(label), oid);
        return gid == -1 ? -1 : any.parser().fid(gid);
    }

    /** All vertices of {@code label} (original ids), fragment by fragment; every fragment must be local. */
    public List<Object> vertices(String label) {
        List<Object> out = new ArrayList<>();
        for (ArrowFragment f : fragments()) {
            out.addAll(f.vertices(label));
        }
        return out;
    }

    /** Out-neighbours of a vertex, from its owner. */
    public List<ArrowFragment.Neighbor> outNeighbors(String label, Object oid) {
        return owner(label, oid).outNeighbors(label, oid);
    }

    /** In-neighbours of a vertex, from its owner. */
    public List<ArrowFragment.Neighbor> inNeighbors(String label, Object oid) {
        return owner(label, oid).inNeighbors(label, oid);
    }

    /** Out-degree of a vertex. */
    public long outDegree(String label, Object oid) {
        return owner(label, oid).outDegree(label, oid);
    }

    /** In-degree of a vertex. */
    public long inDegree(String label, Object oid) {
        return owner(label, oid).inDegree(label, oid);
    }

    /** A vertex property, from its owner. */
    public Object vertexProperty(String label, Object oid, String property) {
        return owner(label, oid).vertexProperty(label, oid, property);
    }

    /** Closes every local fragment. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (ArrowFragment f : local) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
