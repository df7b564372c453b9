package io.vineyard.graph;

/**
 * A dense numbering of a group's vertices for algorithms: fragment by fragment, label by label, inner
 * vertices in lid order. For every fragment and label it keeps the number of each local vid (inner and
 * outer), so that a neighbour read from a CSR is numbered with two array reads; these arrays are as long as
 * the vertex counts, the edges are never copied. Every fragment of the group must be local.
 */
public final class GlobalIndex {
    private final FragmentGroup group;
    private final long[][] base;
    private final int[][][] numberOfLocal;
    private final int size;

    /** The numbering of {@code group}'s vertices. */
    public GlobalIndex(FragmentGroup group) {
        group.requireAllLocal("GlobalIndex");
        this.group = group;
        int fnum = group.size();
        int vnum = group.fragment(0).vertexLabels().size();
        base = new long[fnum][vnum];
        long n = 0;
        for (int f = 0; f < fnum; f++) {
            for (int l = 0; l < vnum; l++) {
                base[f][l] = n;
                n += group.fragment(f).innerVertexCount(l);
            }
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("graph of " + n + " vertices: at most 2^31-1 are numbered");
        }
        size = (int) n;
        numberOfLocal = new int[fnum][vnum][];
        for (int f = 0; f < fnum; f++) {
            ArrowFragment frag = group.fragment(f);
            VidParser p = frag.parser();
            for (int l = 0; l < vnum; l++) {
                int tv = Math.toIntExact(frag.totalVertexCount(l));
                int iv = Math.toIntExact(frag.innerVertexCount(l));
                int[] numbers = new int[tv];
                for (int o = 0; o < iv; o++) {
                    numbers[o] = (int) (base[f][l] + o);
                }
                for (int o = iv; o < tv; o++) {
                    long gid = frag.gid(p.vid(l, o));
                    numbers[o] = (int) (base[p.fid(gid)][l] + p.offset(gid));
                }
                numberOfLocal[f][l] = numbers;
            }
        }
    }

    /** The number of vertices. */
    public int size() {
        return size;
    }

    /** The first number of the inner vertices of {@code label} on fragment {@code fid}. */
    public int base(int fid, int label) {
        return (int) base[fid][label];
    }

    /** The numbers of fragment {@code fid}'s local vids of {@code label}, by offset. */
    int[] numbers(int fid, int label) {
        return numberOfLocal[fid][label];
    }

    /** The number of {@code oid} of {@code label}, or -1. */
    public int numberOf(String label, Object oid) {
        ArrowFragment any = group.fragment(0);
        int l = any.vertexLabel(label);
        long gid = any.vertexMap().gid(l, oid);
        if (gid == -1) {
            return -1;
        }
        VidParser p = any.parser();
        return (int) (base[p.fid(gid)][l] + p.offset(gid));
    }
}
