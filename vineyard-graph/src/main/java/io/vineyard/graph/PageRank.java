package io.vineyard.graph;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * PageRank over a fragment group, pulling along the in-edges of each fragment's inner vertices, read in
 * place from the CSRs (all vertex and edge labels form one graph). Each iteration computes
 * {@code rank'(v) = (1 - d) / N + d * (sum over in-edges (u, v) of rank(u) / outdeg(u) + dangling / N)},
 * where {@code dangling} is the rank held by vertices without out-edges (networkx's definition, run for a
 * fixed number of iterations). Parallel edges count once each; an undirected edge is an edge both ways.
 *
 * <p>It runs as GraphScope's engines run over {@code ArrowFragment}s: every fragment has an array of values
 * indexed by local vid (inner vertices, then outer ones, label by label), so that a neighbour read from a
 * nbr unit is one array index away; after each fragment's inner values are computed, the outer vertices'
 * values are copied from their owners (the per-iteration exchange of a distributed run). With one
 * fragment there are no outer vertices and no exchange.
 */
public final class PageRank {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final long NBR_BYTES = FragmentDescriptor.NBR_BYTES;
    /** Where the low 32 bits of a unit's vid are (the vid is a native-order int64). */
    private static final long VID_LOW = FragmentDescriptor.NBR_VID
            + (java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN ? 0 : 4);

    private PageRank() {
    }

    /** Ranks by {@link GlobalIndex} number. */
    public record Result(GlobalIndex index, double[] ranks) {
        /** The rank of {@code oid} of {@code label}. */
        public double rank(String label, Object oid) {
            int n = index.numberOf(label, oid);
            if (n < 0) {
                throw new IllegalArgumentException("vertex " + oid + " of label " + label + " is not in the graph");
            }
            return ranks[n];
        }
    }

    /** Runs {@code iterations} iterations with damping {@code d} from the uniform vector. */
    public static Result run(FragmentGroup group, double d, int iterations) {
        return run(group, new GlobalIndex(group), d, iterations);
    }

    /** As {@link #run(FragmentGroup, double, int)} with a numbering built before. */
    public static Result run(FragmentGroup group, GlobalIndex index, double d, int iterations) {
        int n = index.size();
        int fnum = group.size();
        int vnum = group.fragment(0).vertexLabels().size();
        int enum_ = group.fragment(0).edgeLabels().size();
        double[] outDegree = new double[n];
        for (int f = 0; f < fnum; f++) {
            ArrowFragment frag = group.fragment(f);
            for (int l = 0; l < vnum; l++) {
                int base = index.base(f, l);
                for (int e = 0; e < enum_; e++) {
                    Csr out = frag.outEdges(l, e);
                    for (long o = 0, iv = frag.innerVertexCount(l); o < iv; o++) {
                        outDegree[base + (int) o] += out.degree(o);
                    }
                }
            }
        }
        double[] rank = new double[n];
        double[] contrib = new double[n];
        LocalValues[] locals = new LocalValues[fnum];
        for (int f = 0; f < fnum; f++) {
            locals[f] = new LocalValues(group.fragment(f), index, f, vnum, fnum == 1 ? contrib : null);
        }
        Arrays.fill(rank, 1.0 / n);
        for (int it = 0; it < iterations; it++) {
            double dangling = 0;
            for (int v = 0; v < n; v++) {
                if (outDegree[v] == 0) {
                    dangling += rank[v];
                    contrib[v] = 0;
                } else {
                    contrib[v] = rank[v] / outDegree[v];
                }
            }
            if (fnum > 1) {
                for (LocalValues local : locals) {
                    local.exchange(contrib);
                }
            }
            double teleport = (1 - d) / n + d * dangling / n;
            for (int f = 0; f < fnum; f++) {
                ArrowFragment frag = group.fragment(f);
                LocalValues local = locals[f];
                for (int l = 0; l < vnum; l++) {
                    int base = index.base(f, l);
                    int iv = (int) frag.innerVertexCount(l);
                    Arrays.fill(rank, base, base + iv, 0);
                    for (int e = 0; e < enum_; e++) {
                        Csr in = frag.inEdges(l, e);
                        if (in.size() == 0) {
                            continue;
                        }
                        if (vnum == 1) {
                            pull(in.nbrs(), in.offsets(), iv, local.values, rank, base);
                        } else {
                            pull(in.nbrs(), in.offsets(), iv, local, rank, base);
                        }
                    }
                    for (int o = base; o < base + iv; o++) {
                        rank[o] = teleport + d * rank[o];
                    }
                }
            }
        }
        return new Result(index, rank);
    }

    /** One worker's ranks: those of the inner vertices of its fragments. */
    public static final class WorkerResult {
        private final WorkerFragments part;
        private final double[][] ranks;

        WorkerResult(WorkerFragments part, double[][] ranks) {
            this.part = part;
            this.ranks = ranks;
        }

        /**
         * The rank of {@code oid} of {@code label}, a vertex of this worker's fragments.
         *
         * @throws io.vineyard.common.VineyardException.ObjectNotExists when another worker owns it
         */
        public double rank(String label, Object oid) {
            long at = part.locate(label, oid);
            return ranks[(int) (at >>> 32)][(int) at];
        }
    }

    /**
     * This worker's part of PageRank over a group whose fragments live on several instances: the same
     * computation as {@link #run(FragmentGroup, double, int)}, each worker pulling along the in-edges of
     * its own fragments' inner vertices, read in place, and getting its outer vertices' values from their
     * owners through {@code exchange} every iteration (the vertex count and the dangling mass are summed
     * over the workers). Every worker of the group calls it with the same arguments, each with the group
     * got through its own instance's client and its own endpoint ({@link FragmentGroup#workerIndex()}).
     */
    public static WorkerResult runWorker(FragmentGroup group, Exchange exchange, double d, int iterations) {
        try {
            WorkerFragments w = new WorkerFragments(group, exchange);
            long n = exchange.sum(w.innerVertexCount());
            int slots = w.frags.length;
            double[][] outDegree = w.newDoubles();
            for (int s = 0; s < slots; s++) {
                for (int l = 0; l < w.vnum; l++) {
                    int base = w.labelBase[s][l];
                    for (int e = 0; e < w.enum_; e++) {
                        Csr out = w.frags[s].outEdges(l, e);
                        for (int o = 0; o < w.inner[s][l]; o++) {
                            outDegree[s][base + o] += out.degree(o);
                        }
                    }
                }
            }
            double[][] rank = w.newDoubles();
            double[][] values = w.newDoubles();
            for (int s = 0; s < slots; s++) {
                for (int l = 0; l < w.vnum; l++) {
                    Arrays.fill(rank[s], w.labelBase[s][l], w.labelBase[s][l] + w.inner[s][l], 1.0 / n);
                }
            }
            for (int it = 0; it < iterations; it++) {
                double dangling = 0;
                for (int s = 0; s < slots; s++) {
                    for (int l = 0; l < w.vnum; l++) {
                        for (int i = w.labelBase[s][l], end = i + w.inner[s][l]; i < end; i++) {
                            if (outDegree[s][i] == 0) {
                                dangling += rank[s][i];
                                values[s][i] = 0;
                            } else {
                                values[s][i] = rank[s][i] / outDegree[s][i];
                            }
                        }
                    }
                }
                dangling = exchange.sum(dangling);
                w.pullOuter(values);
                double teleport = (1 - d) / n + d * dangling / n;
                for (int s = 0; s < slots; s++) {
                    for (int l = 0; l < w.vnum; l++) {
                        int base = w.labelBase[s][l];
                        int iv = w.inner[s][l];
                        Arrays.fill(rank[s], base, base + iv, 0);
                        for (int e = 0; e < w.enum_; e++) {
                            Csr in = w.frags[s].inEdges(l, e);
                            for (int o = 0; o < iv; o++) {
                                double sum = 0;
                                for (long i = in.begin(o), end = in.end(o); i < end; i++) {
                                    sum += values[s][w.index(s, in.neighbor(i))];
                                }
                                rank[s][base + o] += sum;
                            }
                        }
                        for (int o = base; o < base + iv; o++) {
                            rank[s][o] = teleport + d * rank[s][o];
                        }
                    }
                }
            }
            return new WorkerResult(w, rank);
        } catch (RuntimeException e) {
            exchange.abort(e);
            throw e;
        }
    }

    /**
     * One fragment's values by local vid: for label {@code l}, {@code values[labelBase[l] + offset]} (inner
     * vertices, then outer ones), the outer part copied from the owners' values by {@link #exchange}.
     */
    private static final class LocalValues {
        final double[] values;
        final int[] labelBase;
        final int[] innerFrom;
        final int[] innerCount;
        final int[][] outerNumbers;
        final int labelShift;
        final long offsetMask;

        LocalValues(ArrowFragment frag, GlobalIndex index, int fid, int vnum, double[] shared) {
            labelBase = new int[vnum];
            innerFrom = new int[vnum];
            innerCount = new int[vnum];
            outerNumbers = new int[vnum][];
            int total = 0;
            for (int l = 0; l < vnum; l++) {
                labelBase[l] = total;
                innerFrom[l] = index.base(fid, l);
                innerCount[l] = Math.toIntExact(frag.innerVertexCount(l));
                int[] numbers = index.numbers(fid, l);
                outerNumbers[l] = Arrays.copyOfRange(numbers, innerCount[l], numbers.length);
                total = Math.addExact(total, numbers.length);
            }
            // one fragment: no outer vertices, and the local order is the global one
            values = shared != null ? shared : new double[total];
            labelShift = frag.parser().labelOffset();
            offsetMask = frag.parser().offsetMask();
        }

        /** The inner vertices' values from {@code global}, and the outer ones' from their owners' part of it. */
        void exchange(double[] global) {
            for (int l = 0; l < labelBase.length; l++) {
                System.arraycopy(global, innerFrom[l], values, labelBase[l], innerCount[l]);
                int[] outer = outerNumbers[l];
                int at = labelBase[l] + innerCount[l];
                for (int k = 0; k < outer.length; k++) {
                    values[at + k] = global[outer[k]];
                }
            }
        }

        int indexOf(long vid) {
            return labelBase[(int) (vid >>> labelShift) & (FragmentDescriptor.MAX_VERTEX_LABELS - 1)] + (int) (vid & offsetMask);
        }
    }

    /**
     * Adds to {@code acc[base + o]} the values of the in-neighbours of the inner vertex {@code o}, for one
     * vertex label: a local vid is then its own index, below 2^31, read as the unit's low int. Two
     * accumulators (the loads of one do not wait for the adds of the other), walking byte offsets.
     */
    private static void pull(MemorySegment nbrs, MemorySegment offsets, int iv, double[] values, double[] acc, int base) {
        long begin = offsets.get(LONG, 0) * NBR_BYTES + VID_LOW;
        for (int o = 0; o < iv; o++) {
            long end = offsets.getAtIndex(LONG, o + 1) * NBR_BYTES + VID_LOW;
            double s0 = 0;
            double s1 = 0;
            long at = begin;
            for (; at + NBR_BYTES < end; at += 2 * NBR_BYTES) {
                s0 += values[nbrs.get(INT, at)];
                s1 += values[nbrs.get(INT, at + NBR_BYTES)];
            }
            if (at < end) {
                s0 += values[nbrs.get(INT, at)];
            }
            acc[base + o] += s0 + s1;
            begin = end;
        }
    }

    /** As above, for several vertex labels: a local vid's label picks its part of the fragment's values. */
    private static void pull(MemorySegment nbrs, MemorySegment offsets, int iv, LocalValues local, double[] acc, int base) {
        double[] values = local.values;
        long begin = offsets.getAtIndex(LONG, 0);
        for (int o = 0; o < iv; o++) {
            long end = offsets.getAtIndex(LONG, o + 1);
            double s = 0;
            for (long i = begin; i < end; i++) {
                s += values[local.indexOf(nbrs.get(LONG, i * NBR_BYTES))];
            }
            acc[base + o] += s;
            begin = end;
        }
    }
}
