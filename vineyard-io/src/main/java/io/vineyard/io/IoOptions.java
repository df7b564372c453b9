package io.vineyard.io;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The options of a read or write, with vineyard's names ({@code modules/io}'s {@code LocalIOAdaptor} and
 * {@code vineyard.io}): given as a map, or in the URI's fragment as vineyard's C++ adaptors take them
 * ({@code file.csv#header_row=false&delimiter=|}); the map wins. Values may be strings, booleans, numbers
 * or lists (lists and comma-separated strings are the same).
 *
 * <table>
 *   <caption>options</caption>
 *   <tr><td>{@code format}</td><td>{@code csv}, {@code parquet}, {@code orc}; default from the extension</td></tr>
 *   <tr><td>{@code delimiter}</td><td>CSV field separator, one character ({@code \t} for tab); default {@code ,} ({@code \t} for {@code .tsv})</td></tr>
 *   <tr><td>{@code header_row}</td><td>CSV: the first row names the columns (default true); false names them {@code f0, f1, ...}</td></tr>
 *   <tr><td>{@code schema}</td><td>the columns to read, by name or index, in that order (default all)</td></tr>
 *   <tr><td>{@code include_all_columns}</td><td>with {@code schema}: the other columns too, after those named</td></tr>
 *   <tr><td>{@code column_types}</td><td>CSV: a type per {@code schema} column ({@code int64}, {@code double}, {@code string}, ...; empty: inferred)</td></tr>
 *   <tr><td>{@code null_values}</td><td>CSV: the text of a null (default Arrow's list: empty, {@code NULL}, {@code NA}, ...)</td></tr>
 *   <tr><td>{@code block_size}</td><td>CSV bytes parsed per batch (default 16 MiB)</td></tr>
 *   <tr><td>{@code batch_rows}</td><td>most rows per record batch (default 1Mi)</td></tr>
 *   <tr><td>{@code proc_num}, {@code proc_index}</td><td>partial read: reader {@code proc_index} of {@code proc_num} takes every proc_num-th file of a directory or glob</td></tr>
 *   <tr><td>{@code chunks}, {@code global}</td><td>read into a {@code vineyard::GlobalDataFrame}: a chunk (a {@code vineyard::Table}) per file ({@code chunks=file}, {@code global=true}) or per batch / row group ({@code chunks=batch})</td></tr>
 *   <tr><td>{@code parallelism}</td><td>with chunks: files scanned at once (default: the cores)</td></tr>
 *   <tr><td>{@code name}</td><td>persist the result and name it</td></tr>
 *   <tr><td>{@code storage_options}</td><td>a map for the storage: S3's {@code key}/{@code access_key}, {@code secret}/{@code secret_key}, {@code endpoint_url}/{@code endpoint_override}, {@code region}</td></tr>
 *   <tr><td>{@code chunk_bytes}</td><td>read_bytes: bytes per stream chunk (default 4 MiB)</td></tr>
 *   <tr><td>{@code compression}</td><td>serialize: {@code zstd} (default, as vineyard) or {@code none}</td></tr>
 * </table>
 */
final class IoOptions {
    private static final Set<String> KNOWN = Set.of("format", "delimiter", "header_row", "schema",
            "include_all_columns", "column_types", "null_values", "block_size", "batch_rows", "name",
            "storage_options", "compression", "compression_method", "chunk_bytes", "proc_num", "proc_index",
            "chunks", "global", "parallelism");

    private final String uri;
    private final Map<String, Object> values;

    private IoOptions(String uri, Map<String, Object> values) {
        this.uri = uri;
        this.values = values;
    }

    /** The options of {@code uri}'s fragment overlaid with {@code given}; unknown names are refused. */
    static IoOptions of(String uri, Map<String, ?> given) {
        Map<String, Object> all = new LinkedHashMap<>();
        int hash = uri.indexOf('#');
        if (hash >= 0) {
            for (String kv : uri.substring(hash + 1).split("[&#]")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                String k = eq < 0 ? kv : kv.substring(0, eq);
                String v = eq < 0 ? "true" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                all.put(k, v);
            }
        }
        if (given != null) {
            given.forEach((k, v) -> {
                if (v != null) {
                    all.put(k, v);
                }
            });
        }
        String base = withoutFragment(uri);
        for (String k : all.keySet()) {
            if (!KNOWN.contains(k)) {
                throw new IoException.Unsupported(base, "option '" + k + "' (known: " + String.join(", ", KNOWN.stream().sorted().toList()) + ")");
            }
        }
        return new IoOptions(base, all);
    }

    static String withoutFragment(String uri) {
        int hash = uri.indexOf('#');
        return hash < 0 ? uri : uri.substring(0, hash);
    }

    String string(String key, String fallback) {
        Object v = values.get(key);
        return v == null ? fallback : v.toString();
    }

    boolean bool(String key, boolean fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        return switch (v.toString().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw new IoException.Unsupported(uri, "option " + key + "=" + v + " is not a boolean");
        };
    }

    long number(String key, long fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IoException.Unsupported(uri, "option " + key + "=" + v + " is not a number");
        }
    }

    /** A list option: a collection, or a comma-separated string (empty entries kept). Null when absent. */
    List<String> list(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (v instanceof Collection<?> c) {
            c.forEach(e -> out.add(e == null ? "" : e.toString()));
        } else {
            for (String s : v.toString().split(",", -1)) {
                out.add(s.trim());
            }
        }
        return out;
    }

    /** The CSV delimiter: one character, {@code \t} written out or as is. */
    char delimiter(char fallback) {
        String d = string("delimiter", null);
        if (d == null) {
            return fallback;
        }
        d = d.replaceAll("^[\"']|[\"']$", "");
        if (d.equals("\\t")) {
            return '\t';
        }
        if (d.length() != 1) {
            throw new IoException.Unsupported(uri, "delimiter '" + d + "' is not one character");
        }
        return d.charAt(0);
    }

    /** The storage options as strings. */
    Map<String, String> storage() {
        Object v = values.get("storage_options");
        Map<String, String> out = new LinkedHashMap<>();
        if (v instanceof Map<?, ?> m) {
            m.forEach((k, x) -> {
                if (x != null) {
                    out.put(k.toString(), x.toString());
                }
            });
        } else if (v != null) {
            throw new IoException.Unsupported(uri, "storage_options must be a map, got " + v.getClass().getSimpleName());
        }
        return out;
    }
}
