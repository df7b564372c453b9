package io.vineyard.client.types;


import io.vineyard.client.Blob;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link VineyardType}s of vineyard's hash maps, with the keys vineyard's generated
 * {@code HashmapBaseBuilder::_Seal} writes ({@code modules/basic/ds/hashmap.vineyard-mod}).
 */
public final class HashmapTypes {
    private HashmapTypes() {
    }

    /**
     * {@code vineyard::Hashmap<K,V,H,E>} as {@link Hashmap}: {@code num_slots_minus_one_}, {@code max_lookups_},
     * {@code num_elements_}, {@code entries_} (a {@code vineyard::Array<ska::detailv3::sherwood_v3_entry<
     * std::pair<K,V>>>}: {@code size_} and {@code buffer_}), {@code data_buffer_} (0: only string-view keys
     * use it) and {@code data_buffer_mapped_} (the empty blob).
     */
    public static final class HashmapType implements VineyardType<Hashmap> {
        /** Service constructor. */
        public HashmapType() {
        }

        @Override
        public Class<Hashmap> javaType() {
            return Hashmap.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Hashmap<");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, Hashmap h) {
            long nbytes = h.entryCount() * h.entryBytes();
            ObjectMeta entries = new ObjectMeta(h.layout().entriesTypename());
            Blob blob = h.blob();
            entries.addMember("buffer_", blob != null && blob.size() == nbytes
                    ? ctx.blobOf(blob) : ctx.blobOf(h.entries().asSlice(0, nbytes)));
            entries.setNbytes(nbytes);
            entries.put("size_", h.entryCount());

            ObjectMeta m = new ObjectMeta(h.typename());
            m.put("num_slots_minus_one_", h.numSlotsMinusOne());
            m.put("max_lookups_", h.maxLookups());
            m.put("num_elements_", h.size());
            m.addMember("entries_", entries);
            m.put("data_buffer_", 0L);
            m.addMember("data_buffer_mapped_", ctx.blobOf(MemorySegment.ofArray(new byte[0])));
            m.setNbytes(nbytes);
            return m;
        }

        @Override
        public Hashmap resolve(ResolveContext ctx, ObjectMeta m) {
            List<String> args = templateArguments(m.typename());
            if (args.size() != 4) {
                throw new VineyardException(Status.TYPE_ERROR, "get " + m.what() + ": expected vineyard::Hashmap<K,V,H,E>");
            }
            DType key = DType.parse(args.get(0));
            DType value = DType.parse(args.get(1));
            if (key == null || value == null) {
                throw new VineyardException.NotImplemented("get " + m.what() + ": only integer keys and numeric values are supported");
            }
            HashmapLayout.requireKey(key);
            Hashmap.Hasher hasher = hasherOf(args.get(2));
            if (hasher == null || !args.get(3).startsWith("std::equal_to<")) {
                throw new VineyardException.NotImplemented("get " + m.what() + ": hash " + args.get(2) + " and equality "
                        + args.get(3) + " are not supported (wy::hash or std::hash, std::equal_to)");
            }
            long numSlotsMinusOne = m.getLong("num_slots_minus_one_");
            long maxLookups = m.getLong("max_lookups_");
            long size = m.getLong("num_elements_");
            ObjectMeta entries = m.member("entries_");
            long entryCount = entries.getLong("size_");
            if (maxLookups < 0 || maxLookups > Byte.MAX_VALUE) {
                throw new VineyardException(Status.INVALID, "get " + m.what() + ": max_lookups_ " + maxLookups);
            }
            Blob blob = ctx.blob(entries.member("buffer_"));
            return Members.holding(ctx, hold -> new Hashmap(new HashmapLayout(key, value), hasher, numSlotsMinusOne,
                    (int) maxLookups, size, entryCount, blob.segment(), blob, hold));
        }
    }

    /**
     * {@code vineyard::Hashmap<std::string_view,uint64,...>} as {@link StringViewHashmap}: the keys above, with
     * {@code data_buffer_} (the writer's address of the key bytes) and {@code data_buffer_mapped_} (the blob of
     * the key bytes).
     */
    public static final class StringViewHashmapType implements VineyardType<StringViewHashmap> {
        /** Service constructor. */
        public StringViewHashmapType() {
        }

        @Override
        public Class<StringViewHashmap> javaType() {
            return StringViewHashmap.class;
        }

        @Override
        public List<String> typenamePrefixes() {
            return List.of("vineyard::Hashmap<" + StringViewHashmap.STRING_VIEW + ",");
        }

        @Override
        public ObjectMeta build(BuildContext ctx, StringViewHashmap h) {
            long nbytes = h.entryCount * StringViewHashmap.ENTRY_BYTES;
            ObjectMeta entries = new ObjectMeta(StringViewHashmap.ENTRIES_TYPENAME);
            entries.addMember("buffer_", ctx.blobOf(h.entries().asSlice(0, nbytes)));
            entries.setNbytes(nbytes);
            entries.put("size_", h.entryCount);
            ObjectMeta m = new ObjectMeta(StringViewHashmap.TYPENAME);
            m.put("num_slots_minus_one_", h.numSlotsMinusOne);
            m.put("max_lookups_", (long) h.maxLookups);
            m.put("num_elements_", h.size);
            m.addMember("entries_", entries);
            m.put("data_buffer_", h.dataBase);
            m.addMember("data_buffer_mapped_", h.dataMember);
            m.setNbytes(nbytes);
            return m;
        }

        @Override
        public StringViewHashmap resolve(ResolveContext ctx, ObjectMeta m) {
            if (!m.typename().equals(StringViewHashmap.TYPENAME)) {
                throw new VineyardException.NotImplemented("get " + m.what() + ": only " + StringViewHashmap.TYPENAME
                        + " is supported among string-view maps");
            }
            long maxLookups = m.getLong("max_lookups_");
            if (maxLookups < 0 || maxLookups > Byte.MAX_VALUE) {
                throw new VineyardException(Status.INVALID, "get " + m.what() + ": max_lookups_ " + maxLookups);
            }
            ObjectMeta entries = m.member("entries_");
            MemorySegment e = ctx.blob(entries.member("buffer_")).segment();
            MemorySegment data = ctx.blob(m.member("data_buffer_mapped_")).segment();
            return Members.holding(ctx, hold -> new StringViewHashmap(m.getLong("num_slots_minus_one_"), (int) maxLookups,
                    m.getLong("num_elements_"), entries.getLong("size_"), e, data, m.getLong("data_buffer_"), null, hold));
        }
    }

    static Hashmap.Hasher hasherOf(String cpp) {
        for (Hashmap.Hasher h : Hashmap.Hasher.values()) {
            if (cpp.startsWith(h.cppName() + "<")) {
                return h;
            }
        }
        return null;
    }

    /** The top-level template arguments of {@code typename}, e.g. {@code [int64, uint64, wy::hash<int64>, ...]}. */
    static List<String> templateArguments(String typename) {
        List<String> out = new ArrayList<>();
        int lt = typename == null ? -1 : typename.indexOf('<');
        if (lt < 0 || !typename.endsWith(">")) {
            return out;
        }
        int depth = 0;
        int start = lt + 1;
        for (int i = start; i < typename.length() - 1; i++) {
            char c = typename.charAt(i);
            if (c == '<') {
                depth++;
            } else if (c == '>') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(typename.substring(start, i).trim());
                start = i + 1;
            }
        }
        out.add(typename.substring(start, typename.length() - 1).trim());
        return out;
    }
}
