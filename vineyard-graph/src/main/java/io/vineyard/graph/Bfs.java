package io.vineyard.graph;

import java.util.Arrays;

/**
 * Breadth-first search over a fragment group along out-edges (all labels), read in place from the CSRs:
 * the hop count of every vertex from a source, -1 for the unreachable.
 */
public final class Bfs {
    private Bfs() {
    }

    /** Hop counts by {@link GlobalIndex} number. */
    public record Result(GlobalIndex index, int[] depths) {
        /** The hop count of {@code oid} of {@code label}, -1 when unreachable. */
        public int depth(String label, Object oid) {
            int n = index.numberOf(label, oid);
            if (n < 0) {
                throw new IllegalArgumentException("vertex " + oid + " of label " + label + " is not in the graph");
            }
            return depths[n];
        }
    }

    /** Hop counts from {@code source} of {@code label}. */
    public static Result run(FragmentGroup group, String label, Object source) {
        GlobalIndex index = new GlobalIndex(group);
        ArrowFragment owner = group.owner(label, source);
        int enum_ = owner.edgeLabels().size();
        int[] depth = new int[index.size()];
        Arrays.fill(depth, -1);
        // frontier entries: fragment << 40 | label << 32 | offset
        long[] frontier = new long[16];
        int size = 0;
        int l0 = owner.vertexLabel(label);
        long src = owner.innerVertex(l0, source);
        depth[index.numbers(owner.fid(), l0)[(int) owner.parser().offset(src)]] = 0;
        frontier[size++] = pack(owner.fid(), l0, owner.parser().offset(src));
        for (int level = 1; size > 0; level++) {
            long[] next = new long[16];
            int nextSize = 0;
            for (int k = 0; k < size; k++) {
                int f = (int) (frontier[k] >>> 40);
                int l = (int) ((frontier[k] >>> 32) & 0xFF);
                long o = frontier[k] & 0xFFFFFFFFL;
                ArrowFragment frag = group.fragment(f);
                VidParser p = frag.parser();
                for (int e = 0; e < enum_; e++) {
                    Csr out = frag.outEdges(l, e);
                    for (long i = out.begin(o), end = out.end(o); i < end; i++) {
                        long vid = out.neighbor(i);
                        int nl = p.label(vid);
                        int number = index.numbers(f, nl)[(int) p.offset(vid)];
                        if (depth[number] >= 0) {
                            continue;
                        }
                        depth[number] = level;
                        long gid = frag.gid(vid);
                        if (nextSize == next.length) {
                            next = Arrays.copyOf(next, nextSize * 2);
                        }
                        next[nextSize++] = pack(p.fid(gid), nl, p.offset(gid));
                    }
                }
            }
            frontier = next;
            size = nextSize;
        }
        return new Result(index, depth);
    }

    private static long pack(int fid, int label, long offset) {
        return ((long) fid << 40) | ((long) label << 32) | offset;
    }
}
