package io.vineyard.graph;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One CSR of a fragment (the out- or in-edges of one vertex label along one edge label), read in place:
 * {@code offsets} are the {@code tvnum + 1} int64 offsets, {@code nbrs} the 16-byte nbr units
 * ({@link FragmentDescriptor}), both views of the daemon's shared memory.
 *
 * <pre>{@code
 * Csr out = fragment.outEdges(label, edgeLabel);
 * for (long i = out.begin(offset), end = out.end(offset); i < end; i++) {
 *     long nbrVid = out.neighbor(i);   // a local vid: fragment.idOf(nbrVid) is the original id
 *     long eid = out.edgeId(i);        // the row of the edge table
 *     visit(fragment.idOf(nbrVid), eid);
 * }
 * }</pre>
 *
 * @param nbrs    the nbr units
 * @param offsets the offsets
 */
public record Csr(MemorySegment nbrs, MemorySegment offsets) {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    /** The first unit of the vertex at {@code offset}. */
    public long begin(long offset) {
        return offsets.getAtIndex(LONG, offset);
    }

    /** One past the last unit of the vertex at {@code offset}. */
    public long end(long offset) {
        return offsets.getAtIndex(LONG, offset + 1);
    }

    /** The number of edges of the vertex at {@code offset}. */
    public long degree(long offset) {
        return end(offset) - begin(offset);
    }

    /** The local vid of unit {@code i}'s neighbour. */
    public long neighbor(long i) {
        return nbrs.get(LONG, i * FragmentDescriptor.NBR_BYTES + FragmentDescriptor.NBR_VID);
    }

    /** The edge id (edge table row) of unit {@code i}. */
    public long edgeId(long i) {
        return nbrs.get(LONG, i * FragmentDescriptor.NBR_BYTES + FragmentDescriptor.NBR_EID);
    }

    /** The number of units. */
    public long size() {
        return nbrs.byteSize() / FragmentDescriptor.NBR_BYTES;
    }
}
