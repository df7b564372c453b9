package io.vineyard.graph;

import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.util.Arrays;

/**
 * One worker's part of a distributed computation over a fragment group: the fragments on its instance
 * (by slot, in fid order), a value index for every local vid of each, and the mirror plan that fills the
 * outer vertices' values from their owners.
 *
 * <pre>
 *  values[slot]:  | label 0: inner (ivnum) | outer (ovnum) | label 1: inner | outer | ...
 *                   ^ labelBase[slot][0]                    ^ labelBase[slot][1]
 * </pre>
 *
 * <p>The plan is made once, with one all-to-all of gids: each worker asks the owner of each of its outer
 * vertices (the worker of the gid's fragment, this one included) for its value; a {@link #pullOuter}
 * is then one all-to-all of doubles in that agreed order (GraphScope's mirror/master exchange). Nothing
 * but those values crosses between workers; the CSRs are read in place by their own worker.
 */
final class WorkerFragments {
    final FragmentGroup group;
    final Exchange exchange;
    final VidParser parser;
    final int vnum;
    final int enum_;
    /** Local fragments by slot. */
    final ArrowFragment[] frags;
    /** Slot of each fid, -1 for a fragment of another worker. */
    final int[] slotOfFid;
    final int[][] labelBase;
    final int[][] inner;
    final int[] sizes;
    /** What this worker asks worker w for: where each value goes, as slot and index, in the agreed order. */
    private final int[][] askSlot;
    private final int[][] askIndex;
    /** What worker w asks this one for: where each value is read from. */
    private final int[][] giveSlot;
    private final int[][] giveIndex;

    WorkerFragments(FragmentGroup group, Exchange exchange) {
        this.group = group;
        this.exchange = exchange;
        if (exchange.workers() != group.instances().size() || exchange.self() != group.workerIndex()) {
            throw new VineyardException.Invalid("group " + group.id() + " has fragments on instances " + group.instances()
                    + ": it needs " + group.instances().size() + " workers, the one of rank r on instance r of that list; this"
                    + " worker has rank " + exchange.self() + " of " + exchange.workers() + " and its group was got on a client"
                    + " of worker rank " + group.workerIndex());
        }
        this.frags = group.localFragments().toArray(ArrowFragment[]::new);
        ArrowFragment any = frags[0];
        this.parser = any.parser();
        this.vnum = any.vertexLabels().size();
        this.enum_ = any.edgeLabels().size();
        this.slotOfFid = new int[group.size()];
        Arrays.fill(slotOfFid, -1);
        this.labelBase = new int[frags.length][vnum];
        this.inner = new int[frags.length][vnum];
        this.sizes = new int[frags.length];
        for (int s = 0; s < frags.length; s++) {
            slotOfFid[frags[s].fid()] = s;
            int total = 0;
            for (int l = 0; l < vnum; l++) {
                labelBase[s][l] = total;
                inner[s][l] = Math.toIntExact(frags[s].innerVertexCount(l));
                total = Math.addExact(total, Math.toIntExact(frags[s].totalVertexCount(l)));
            }
            sizes[s] = total;
        }
        int workers = exchange.workers();
        int[] count = new int[workers];
        forEachOuter((s, index, gid) -> count[group.workerOf(parser.fid(gid))]++);
        long[][] asks = new long[workers][];
        askSlot = new int[workers][];
        askIndex = new int[workers][];
        for (int w = 0; w < workers; w++) {
            asks[w] = new long[count[w]];
            askSlot[w] = new int[count[w]];
            askIndex[w] = new int[count[w]];
        }
        Arrays.fill(count, 0);
        forEachOuter((s, index, gid) -> {
            int w = group.workerOf(parser.fid(gid));
            int k = count[w]++;
            asks[w][k] = gid;
            askSlot[w][k] = s;
            askIndex[w][k] = index;
        });
        long[][] asked = exchange.allToAll(asks);
        giveSlot = new int[workers][];
        giveIndex = new int[workers][];
        for (int w = 0; w < workers; w++) {
            giveSlot[w] = new int[asked[w].length];
            giveIndex[w] = new int[asked[w].length];
            for (int k = 0; k < asked[w].length; k++) {
                long gid = asked[w][k];
                int s = innerSlot(gid);
                giveSlot[w][k] = s;
                giveIndex[w][k] = labelBase[s][parser.label(gid)] + (int) parser.offset(gid);
            }
        }
    }

    private interface OuterVisitor {
        void visit(int slot, int index, long gid);
    }

    private void forEachOuter(OuterVisitor v) {
        for (int s = 0; s < frags.length; s++) {
            for (int l = 0; l < vnum; l++) {
                for (long o = inner[s][l], tv = frags[s].totalVertexCount(l); o < tv; o++) {
                    v.visit(s, labelBase[s][l] + (int) o, frags[s].gid(parser.vid(l, o)));
                }
            }
        }
    }

    /** The slot of the local fragment that owns {@code gid} as an inner vertex. */
    int innerSlot(long gid) {
        int fid = parser.fid(gid);
        int s = fid < slotOfFid.length ? slotOfFid[fid] : -1;
        if (s < 0 || parser.offset(gid) >= inner[s][parser.label(gid)]) {
            throw new VineyardException(Status.INVALID, "worker " + exchange.self() + " was sent gid " + Long.toHexString(gid)
                    + ", which is not an inner vertex of its fragments " + Arrays.toString(fids()));
        }
        return s;
    }

    private int[] fids() {
        return Arrays.stream(frags).mapToInt(ArrowFragment::fid).toArray();
    }

    /** The number of inner vertices of this worker's fragments. */
    long innerVertexCount() {
        long n = 0;
        for (int[] perLabel : inner) {
            for (int c : perLabel) {
                n += c;
            }
        }
        return n;
    }

    /** One value array per local fragment, indexed as the class comment draws. */
    double[][] newDoubles() {
        double[][] v = new double[frags.length][];
        for (int s = 0; s < v.length; s++) {
            v[s] = new double[sizes[s]];
        }
        return v;
    }

    /** The index of a local vid of fragment {@code slot}. */
    int index(int slot, long vid) {
        return labelBase[slot][parser.label(vid)] + (int) parser.offset(vid);
    }

    /** Fills the outer vertices' entries of {@code values} with their owners' inner entries: one exchange. */
    void pullOuter(double[][] values) {
        int workers = exchange.workers();
        double[][] out = new double[workers][];
        for (int w = 0; w < workers; w++) {
            double[] m = new double[giveSlot[w].length];
            for (int k = 0; k < m.length; k++) {
                m[k] = values[giveSlot[w][k]][giveIndex[w][k]];
            }
            out[w] = m;
        }
        double[][] in = exchange.allToAll(out);
        for (int w = 0; w < workers; w++) {
            if (in[w].length != askSlot[w].length) {
                throw new VineyardException(Status.INVALID, "worker " + exchange.self() + " asked worker " + w + " for "
                        + askSlot[w].length + " values and got " + in[w].length);
            }
            for (int k = 0; k < in[w].length; k++) {
                values[askSlot[w][k]][askIndex[w][k]] = in[w][k];
            }
        }
    }

    /**
     * Where the value of {@code oid} of {@code label} is: {@code slot << 32 | index}.
     *
     * @throws VineyardException.ObjectNotExists when no such vertex, or another worker owns it
     */
    long locate(String label, Object oid) {
        int fid = group.ownerFid(label, oid);
        if (fid < 0) {
            throw new VineyardException.ObjectNotExists("vertex " + oid + " of label " + label + " is not in the graph");
        }
        int s = slotOfFid[fid];
        if (s < 0) {
            throw new VineyardException.ObjectNotExists("vertex " + oid + " of label " + label + " is owned by fragment " + fid
                    + " on instance i" + group.location(fid) + ", not by this worker's fragments " + Arrays.toString(fids()));
        }
        long gid = frags[s].vertexMap().gid(frags[s].vertexLabel(label), oid);
        return ((long) s << 32) | (labelBase[s][parser.label(gid)] + parser.offset(gid));
    }

    /** A growable list of longs (frontiers, messages). */
    static final class Longs {
        private long[] a = new long[16];
        private int n;

        void add(long x) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = x;
        }

        int size() {
            return n;
        }

        long get(int i) {
            return a[i];
        }

        long[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
