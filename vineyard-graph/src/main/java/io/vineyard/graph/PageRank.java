package io.vineyard.graph;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * PageRank over a fragment group, pulling along the in-edges of each fragment's inner vertices, read in
 * place from the CSRs (all vertex and edge labels form one graph). Each iteration computes
 * {@code rank'(v) = (1 - d) / N + d * (sum over in-edges (u, v) of rank(u) / outdeg(u) + dangling / N)},
 * where {@code dangling} is the rank held by vertices without out-edges (networkx's definition, run for a
 * fixed number of iterations). Parallel edges count once each; an undirected edge is an edge both ways.
 */
public final class PageRank {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

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
        java.util.Arrays.fill(rank, 1.0 / n);
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
            double teleport = (1 - d) / n + d * dangling / n;
            for (int f = 0; f < fnum; f++) {
                ArrowFragment frag = group.fragment(f);
                VidParser p = frag.parser();
                for (int l = 0; l < vnum; l++) {
                    int base = index.base(f, l);
                    int iv = (int) frag.innerVertexCount(l);
                    for (int o = 0; o < iv; o++) {
                        rank[base + o] = 0;
                    }
                    for (int e = 0; e < enum_; e++) {
                        Csr in = frag.inEdges(l, e);
                        if (in.size() == 0) {
                            continue;
                        }
                        pull(in, p, index, f, vnum, contrib, rank, base, iv);
                    }
                    for (int o = 0; o < iv; o++) {
                        rank[base + o] = teleport + d * rank[base + o];
                    }
                }
            }
        }
        return new Result(index, rank);
    }

    private static void pull(Csr in, VidParser p, GlobalIndex index, int f, int vnum, double[] contrib, double[] acc,
                             int base, int iv) {
        long mask = p.offsetMask();
        if (vnum == 1) {
            // one label: an inner neighbour's number is base + offset, only outer ones need the table
            int[] numbers = index.numbers(f, 0);
            MemorySegment nbrs = in.nbrs();
            long begin = in.begin(0);
            for (int o = 0; o < iv; o++) {
                long end = in.end(o);
                double s = 0;
                for (long i = begin; i < end; i++) {
                    int off = (int) (nbrs.get(LONG, i * FragmentDescriptor.NBR_BYTES) & mask);
                    s += contrib[off < iv ? base + off : numbers[off]];
                }
                acc[base + o] += s;
                begin = end;
            }
            return;
        }
        int[][] numbers = new int[vnum][];
        for (int l = 0; l < vnum; l++) {
            numbers[l] = index.numbers(f, l);
        }
        for (int o = 0; o < iv; o++) {
            double s = 0;
            for (long i = in.begin(o), end = in.end(o); i < end; i++) {
                long vid = in.neighbor(i);
                s += contrib[numbers[p.label(vid)][(int) (vid & mask)]];
            }
            acc[base + o] += s;
        }
    }
}
