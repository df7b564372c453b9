package io.vineyard.io;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.stream.Stream;

/**
 * Where data is read from or written to: a local path ({@code /data/x.csv}, {@code file:///data/x.csv}, a
 * directory, or a glob such as {@code /data/part-*.parquet}) or an S3 object or prefix
 * ({@code s3://bucket/key}), turned into the URIs Arrow's file systems take. S3 credentials and endpoint come
 * from {@code storage_options} (s3fs' names or Arrow's), else from Arrow's usual AWS environment.
 *
 * @param uri       as given, without its fragment
 * @param localPath the local path, or null for S3
 * @param arrowUri  the URI handed to Arrow (S3: with endpoint and credentials)
 */
record Location(String uri, Path localPath, String arrowUri) {
    static Location of(String given, Map<String, String> storage) {
        String uri = IoOptions.withoutFragment(given);
        String lower = uri.toLowerCase(Locale.ROOT);
        if (lower.startsWith("s3://")) {
            return new Location(uri, null, s3(uri, storage));
        }
        if (lower.startsWith("hdfs://")) {
            return new Location(uri, null, uri);
        }
        if (lower.startsWith("file://")) {
            try {
                return local(uri, Path.of(new URI(uri.replace(" ", "%20"))));
            } catch (URISyntaxException | IllegalArgumentException e) {
                throw new IoException.Unsupported(uri, "not a file URI: " + e.getMessage());
            }
        }
        int colon = uri.indexOf("://");
        if (colon > 0) {
            throw new IoException.Unsupported(uri, "scheme '" + uri.substring(0, colon) + "' (file, s3, hdfs)");
        }
        return local(uri, Path.of(uri));
    }

    private static Location local(String uri, Path path) {
        Path abs = path.toAbsolutePath().normalize();
        return new Location(uri, abs, abs.toUri().toString());
    }

    private static String s3(String uri, Map<String, String> storage) {
        String rest = uri.substring("s3://".length());
        String key = first(storage, "key", "access_key", "aws_access_key_id");
        String secret = first(storage, "secret", "secret_key", "aws_secret_access_key");
        String endpoint = first(storage, "endpoint_url", "endpoint_override", "endpoint");
        String region = first(storage, "region", "region_name");
        StringBuilder out = new StringBuilder("s3://");
        if (key != null && secret != null) {
            out.append(enc(key)).append(':').append(enc(secret)).append('@');
        }
        out.append(rest);
        StringJoiner query = new StringJoiner("&", "?", "");
        query.setEmptyValue("");
        if (endpoint != null) {
            String scheme = "https";
            if (endpoint.startsWith("http://") || endpoint.startsWith("https://")) {
                scheme = endpoint.substring(0, endpoint.indexOf(':'));
                endpoint = endpoint.substring(scheme.length() + 3);
            }
            scheme = storage.getOrDefault("scheme", scheme);
            query.add("endpoint_override=" + enc(endpoint)).add("scheme=" + scheme);
        }
        if (region != null) {
            query.add("region=" + enc(region));
        }
        return out.append(query).toString();
    }

    static String first(Map<String, String> m, String... keys) {
        for (String k : keys) {
            if (m.get(k) != null) {
                return m.get(k);
            }
        }
        return null;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    boolean isLocal() {
        return localPath != null;
    }

    boolean isHdfs() {
        return localPath == null && arrowUri.regionMatches(true, 0, "hdfs://", 0, 7);
    }

    /** The byte-level storage of the location: the local disk, HDFS or S3. */
    Storage storage(Map<String, String> storageOptions) {
        if (isLocal()) {
            return new Storage.Local(uri);
        }
        if (isHdfs()) {
            return new HdfsStorage(uri, storageOptions);
        }
        return new S3Storage(uri, storageOptions);
    }

    /** The path inside the storage: the local absolute path, an HDFS URI's path, or S3's {@code bucket/key}. */
    String path() {
        if (isLocal()) {
            return localPath.toString();
        }
        if (isHdfs()) {
            return HdfsStorage.pathOf(uri);
        }
        String p = uri.substring("s3://".length());
        return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    /** An HDFS file of this location's namenode as a full URI. */
    String hdfsUri(String path) {
        URI u = URI.create(uri.replace(" ", "%20"));
        return "hdfs://" + u.getAuthority() + path;
    }

    private static boolean isGlob(String s) {
        return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0;
    }

    private static boolean visible(Path p) {
        String n = p.getFileName().toString();
        return !n.startsWith(".") && !n.startsWith("_") && Files.isRegularFile(p);
    }

    /**
     * The Arrow URIs of the data files: the file itself, a directory's visible files (sorted; names
     * starting with {@code .} or {@code _} are skipped, as Arrow and Spark do), or a glob's matches. S3
     * URIs are passed as they are (Arrow lists a prefix itself).
     *
     * @throws IoException.NotFound when the path, or every match of the glob, is missing
     */
    List<String> dataFiles(Map<String, String> storageOptions) {
        if (isHdfs()) {
            try (HdfsStorage fs = new HdfsStorage(uri, storageOptions)) {
                return hdfsFiles(fs);
            }
        }
        if (!isLocal()) {
            return List.of(arrowUri);
        }
        Path p = localPath;
        List<Path> files = new ArrayList<>();
        try {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(Location::visible).sorted().forEach(files::add);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else if (isGlob(p.getFileName().toString()) && Files.isDirectory(p.getParent())) {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + p.getFileName());
                try (Stream<Path> s = Files.list(p.getParent())) {
                    s.filter(f -> m.matches(f.getFileName()) && visible(f)).sorted().forEach(files::add);
                }
            }
        } catch (IOException e) {
            throw new IoException.NotFound(uri, "cannot list: " + e, e);
        }
        if (files.isEmpty()) {
            throw new IoException.NotFound(uri, Files.isDirectory(p) ? "the directory holds no data file"
                    : "no such file or directory", null);
        }
        return files.stream().map(f -> f.toUri().toString()).toList();
    }

    /** {@link #dataFiles} on HDFS, as full hdfs:// URIs. */
    private List<String> hdfsFiles(HdfsStorage fs) {
        String p = path();
        List<String> files;
        if (fs.isDirectory(p)) {
            files = fs.children(p).stream().filter(n -> !n.startsWith(".") && !n.startsWith("_"))
                    .map(n -> Storage.join(p, n)).filter(fs::isFile).toList();
        } else if (fs.isFile(p)) {
            files = List.of(p);
        } else if (isGlob(Storage.name(p))) {
            files = fs.glob(p).stream().filter(f -> !Storage.name(f).startsWith(".") && !Storage.name(f).startsWith("_")).toList();
        } else {
            files = List.of();
        }
        if (files.isEmpty()) {
            throw new IoException.NotFound(uri, fs.isDirectory(p) ? "the directory holds no data file" : "no such file or directory", null);
        }
        return files.stream().map(this::hdfsUri).toList();
    }
}
