package io.vineyard.io;

import org.apache.arrow.dataset.file.FileFormat;

import java.util.Locale;

/** The file formats this module reads and writes, with the extensions that name them. */
public enum DataFormat {
    /** Comma (or {@code delimiter}) separated values; {@code .csv}, {@code .tsv} (tab), {@code .txt}. */
    CSV(FileFormat.CSV, "csv"),
    /** Apache Parquet; {@code .parquet}, {@code .pq}. */
    PARQUET(FileFormat.PARQUET, "parquet"),
    /** Apache ORC; {@code .orc}. */
    ORC(FileFormat.ORC, "orc");

    private final FileFormat arrow;
    private final String extension;

    DataFormat(FileFormat arrow, String extension) {
        this.arrow = arrow;
        this.extension = extension;
    }

    FileFormat arrow() {
        return arrow;
    }

    /** The extension Arrow's dataset writer gives files of this format. */
    String extension() {
        return extension;
    }

    /** The format named by a {@code format=} option ({@code csv}, {@code parquet}, {@code orc}). */
    static DataFormat named(String uri, String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "csv", "tsv", "txt" -> CSV;
            case "parquet", "pq" -> PARQUET;
            case "orc" -> ORC;
            default -> throw new IoException.Unsupported(uri, "format '" + name + "' (csv, parquet, orc)");
        };
    }

    /** The format a path's extension names, or null. */
    static DataFormat ofPath(String path) {
        int slash = path.lastIndexOf('/');
        int dot = path.lastIndexOf('.');
        if (dot <= slash) {
            return null;
        }
        String ext = path.substring(dot + 1).toLowerCase(Locale.ROOT);
        return switch (ext) {
            case "csv", "tsv", "txt" -> CSV;
            case "parquet", "pq" -> PARQUET;
            case "orc" -> ORC;
            default -> null;
        };
    }
}
