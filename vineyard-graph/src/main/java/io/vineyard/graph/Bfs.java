package io.vineyard.graph;

import io.vineyard.common.VineyardException;

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

    /** One worker's hop counts: those of the inner vertices of its fragments. */
    public static final class WorkerResult {
        private final WorkerFragments part;
        private final int[][] depths;

        WorkerResult(WorkerFragments part, int[][] depths) {
            this.part = part;
            this.depths = depths;
        }

        /**
         * The hop count of {@code oid} of {@code label} (a vertex of this worker's fragments), -1 when unreachable.
         *
         * @throws io.vineyard.common.VineyardException.ObjectNotExists when another worker owns it
         */
        public int depth(String label, Object oid) {
            long at = part.locate(label, oid);
            return depths[(int) (at >>> 32)][(int) at];
        }
    }

    /**
     * This worker's part of a BFS over a group whose fragments live on several instances, level by level:
     * each worker expands its frontier along its own fragments' out-edges, read in place; a neighbour that
     * is an outer vertex is sent (by gid, once) to the worker that owns it, which puts it on its next
     * frontier unless it was reached before; the search ends when no worker has a frontier. Every worker of
     * the group calls it with the same arguments (see {@link PageRank#runWorker}).
     */
    public static WorkerResult runWorker(FragmentGroup group, Exchange exchange, String label, Object source) {
        try {
            WorkerFragments w = new WorkerFragments(group, exchange);
            int slots = w.frags.length;
            int[][] depth = new int[slots][];
            for (int s = 0; s < slots; s++) {
                depth[s] = new int[w.sizes[s]];
                Arrays.fill(depth[s], -1);
            }
            // frontier entries: slot << 40 | label << 32 | offset; an outer vertex's entry marks it as sent
            WorkerFragments.Longs frontier = new WorkerFragments.Longs();
            int ownerFid = group.ownerFid(label, source);
            if (ownerFid < 0) {
                throw new VineyardException.ObjectNotExists("bfs: vertex " + source + " of label " + label + " is not in the graph");
            }
            if (w.slotOfFid[ownerFid] >= 0) {
                long at = w.locate(label, source);
                int s = (int) (at >>> 32);
                ArrowFragment f = w.frags[s];
                long vid = f.innerVertex(f.vertexLabel(label), source);
                depth[s][(int) at] = 0;
                frontier.add(pack(s, w.parser.label(vid), w.parser.offset(vid)));
            }
            for (int level = 1; exchange.sum((long) frontier.size()) > 0; level++) {
                WorkerFragments.Longs next = new WorkerFragments.Longs();
                WorkerFragments.Longs[] sends = new WorkerFragments.Longs[exchange.workers()];
                Arrays.setAll(sends, x -> new WorkerFragments.Longs());
                for (int k = 0; k < frontier.size(); k++) {
                    long entry = frontier.get(k);
                    int s = (int) (entry >>> 40);
                    int l = (int) ((entry >>> 32) & 0xFF);
                    long o = entry & 0xFFFFFFFFL;
                    ArrowFragment frag = w.frags[s];
                    for (int e = 0; e < w.enum_; e++) {
                        Csr out = frag.outEdges(l, e);
                        for (long i = out.begin(o), end = out.end(o); i < end; i++) {
                            long vid = out.neighbor(i);
                            int index = w.index(s, vid);
                            if (depth[s][index] >= 0) {
                                continue;
                            }
                            depth[s][index] = level;
                            if (frag.isInner(vid)) {
                                next.add(pack(s, w.parser.label(vid), w.parser.offset(vid)));
                            } else {
                                long gid = frag.gid(vid);
                                sends[group.workerOf(w.parser.fid(gid))].add(gid);
                            }
                        }
                    }
                }
                long[][] out = new long[sends.length][];
                for (int x = 0; x < sends.length; x++) {
                    out[x] = sends[x].toArray();
                }
                for (long[] in : exchange.allToAll(out)) {
                    for (long gid : in) {
                        int s = w.innerSlot(gid);
                        int index = w.labelBase[s][w.parser.label(gid)] + (int) w.parser.offset(gid);
                        if (depth[s][index] < 0) {
                            depth[s][index] = level;
                            next.add(pack(s, w.parser.label(gid), w.parser.offset(gid)));
                        }
                    }
                }
                frontier = next;
            }
            return new WorkerResult(w, depth);
        } catch (RuntimeException e) {
            exchange.abort(e);
            throw e;
        }
    }

    private static long pack(int fid, int label, long offset) {
        return ((long) fid << 40) | ((long) label << 32) | offset;
    }
}
