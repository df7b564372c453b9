package io.vineyard.graph;

/**
 * vineyard's {@code IdParser<uint64_t>} (property_graph_types.h): a vid packs a fragment id, a vertex label
 * and an offset (layout in {@link FragmentDescriptor}). Global ids (gids) carry the fragment; local vids
 * (as stored in nbr units) have fid 0.
 *
 * @param fidOffset   first bit of the fid
 * @param labelOffset first bit of the label
 */
public record VidParser(int fidOffset, int labelOffset) {
    /** The parser of a graph of {@code fnum} fragments. */
    public static VidParser of(int fnum) {
        int fidOffset = 64 - FragmentDescriptor.bitWidth(fnum);
        return new VidParser(fidOffset, fidOffset - FragmentDescriptor.bitWidth(FragmentDescriptor.MAX_VERTEX_LABELS));
    }

    /** The fragment of a gid. */
    public int fid(long gid) {
        return (int) (gid >>> fidOffset);
    }

    /** The vertex label of a vid or gid. */
    public int label(long vid) {
        return (int) ((vid >>> labelOffset) & (FragmentDescriptor.MAX_VERTEX_LABELS - 1));
    }

    /** The offset of a vid or gid within its label. */
    public long offset(long vid) {
        return vid & offsetMask();
    }

    /** The mask of the offset bits. */
    public long offsetMask() {
        return (1L << labelOffset) - 1;
    }

    /** A local vid (fid 0). */
    public long vid(int label, long offset) {
        return ((long) label << labelOffset) | offset;
    }

    /** A gid. */
    public long gid(int fid, int label, long offset) {
        return ((long) fid << fidOffset) | ((long) label << labelOffset) | offset;
    }

    /** The local vid of an inner vertex's gid (fid cleared). */
    public long lid(long gid) {
        return gid & ((1L << fidOffset) - 1);
    }
}
