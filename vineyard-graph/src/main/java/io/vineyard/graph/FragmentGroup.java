package io.vineyard.graph;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.List;

/**
 * The fragments of one graph, {@code vineyard::ArrowFragmentGroup}, read in place; queries by original id
 * go to the fragment that owns the vertex. Closing it closes every fragment.
 *
 * <pre>{@code
 * FragmentGroup g = client.get(groupId, FragmentGroup.class);      // close() it when done
 * List<ArrowFragment.Neighbor> out = g.outNeighbors("person", 42L);
 * long degree = g.outDegree("person", 42L);
 * PageRank.Result ranks = PageRank.run(g, 0.85, 10);
 * }</pre>
 */
public final class FragmentGroup implements AutoCloseable {
    private final List<ArrowFragment> fragments;

    FragmentGroup(List<ArrowFragment> fragments) {
        this.fragments = List.copyOf(fragments);
    }

    /** The fragments, by fid. */
    public List<ArrowFragment> fragments() {
        return fragments;
    }

    /** Fragment {@code fid}. */
    public ArrowFragment fragment(int fid) {
        return fragments.get(fid);
    }

    /** The number of fragments. */
    public int size() {
        return fragments.size();
    }

    /** True for a directed graph. */
    public boolean directed() {
        return fragments.getFirst().directed();
    }

    /** The fragment that owns {@code oid} of {@code label}. */
    public ArrowFragment owner(String label, Object oid) {
        ArrowFragment any = fragments.getFirst();
        long gid = any.vertexMap().gid(any.vertexLabel(label), oid);
        if (gid == -1) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, "vertex " + oid + " of label " + label + " is not in the graph");
        }
        return fragments.get(any.parser().fid(gid));
    }

    /** All vertices of {@code label} (original ids), fragment by fragment. */
    public List<Object> vertices(String label) {
        List<Object> out = new ArrayList<>();
        for (ArrowFragment f : fragments) {
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

    /** Closes every fragment. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (ArrowFragment f : fragments) {
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
