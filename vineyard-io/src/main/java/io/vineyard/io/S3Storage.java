package io.vineyard.io;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * S3 for bytes (serialize, deserialize, read_bytes) through the AWS SDK's S3 client over the JDK's HTTP
 * connection; tables go through Arrow's own S3 client. Paths are {@code bucket/key}; a "directory" is a
 * key prefix. Credentials, endpoint and region from {@code storage_options} (s3fs' or Arrow's names),
 * else the SDK's usual chain; path-style addressing when an endpoint is given (MinIO, s3proxy). S3 has
 * no rename: {@link #rename} copies on the server and deletes the source.
 */
final class S3Storage implements Storage {
    private final String uri;
    private final S3Client s3;
    /** With {@link #walkAhead}: the directory listed, and every key under it; dropped at any write. */
    private String walked;
    private java.util.NavigableSet<String> walkedKeys;

    S3Storage(String uri, Map<String, String> storage) {
        this.uri = uri;
        String key = Location.first(storage, "key", "access_key", "aws_access_key_id");
        String secret = Location.first(storage, "secret", "secret_key", "aws_secret_access_key");
        String endpoint = Location.first(storage, "endpoint_url", "endpoint_override", "endpoint");
        String region = Location.first(storage, "region", "region_name");
        S3ClientBuilder b = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(5)))
                .region(Region.of(region != null ? region : "us-east-1"))
                .credentialsProvider(key != null && secret != null
                        ? StaticCredentialsProvider.create(AwsBasicCredentials.create(key, secret))
                        : DefaultCredentialsProvider.builder().build());
        b.overrideConfiguration(c -> c.retryStrategy(r -> r.maxAttempts(2)));
        // checksums only where S3 requires them, and no aws-chunked bodies: what every S3 API server
        // (MinIO, s3proxy, Ceph) understands, not only AWS
        b.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
        if (endpoint != null) {
            String scheme = storage.getOrDefault("scheme", endpoint.startsWith("http://") ? "http" : "https");
            String hostPort = endpoint.replaceFirst("^https?://", "");
            b.endpointOverride(URI.create(scheme + "://" + hostPort)).forcePathStyle(true);
        }
        this.s3 = b.build();
    }

    private static String bucket(String path) {
        int slash = path.indexOf('/');
        return slash < 0 ? path : path.substring(0, slash);
    }

    private static String key(String path) {
        int slash = path.indexOf('/');
        return slash < 0 ? "" : path.substring(slash + 1);
    }

    private <T> T call(String path, Supplier<T> request) {
        try {
            return request.get();
        } catch (S3Exception | SdkClientException e) {
            throw failure(path, e);
        }
    }

    @Override
    public boolean atomicRename() {
        return false;
    }

    @Override
    public void walkAhead(String dir) {
        walkedKeys = new TreeSet<>(keysUnder(dir));
        walked = dir;
    }

    private boolean inWalk(String path) {
        return walked != null && path.startsWith(walked + "/");
    }

    @Override
    public boolean isFile(String path) {
        if (key(path).isEmpty()) {
            return false;
        }
        if (inWalk(path)) {
            return walkedKeys.contains(path);
        }
        try {
            s3.headObject(r -> r.bucket(bucket(path)).key(key(path)));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw failure(path, e);
        } catch (SdkClientException e) {
            throw failure(path, e);
        }
    }

    private String prefix(String dir) {
        String k = key(dir);
        return k.isEmpty() || k.endsWith("/") ? k : k + "/";
    }

    @Override
    public boolean isDirectory(String path) {
        return call(path, () -> s3.listObjectsV2(r -> r.bucket(bucket(path)).prefix(prefix(path)).maxKeys(1)).keyCount() > 0);
    }

    @Override
    public List<String> children(String dir) {
        TreeSet<String> names = new TreeSet<>();
        if (inWalk(dir) || dir.equals(walked)) {
            String under = dir + "/";
            for (String k : walkedKeys.tailSet(under)) {
                if (!k.startsWith(under)) {
                    break;
                }
                String rest = k.substring(under.length());
                names.add(rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest);
            }
            return List.copyOf(names);
        }
        String prefix = prefix(dir);
        ListObjectsV2Request.Builder req = ListObjectsV2Request.builder().bucket(bucket(dir)).prefix(prefix).delimiter("/");
        call(dir, () -> {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(req.build())) {
                for (CommonPrefix p : page.commonPrefixes()) {
                    String n = p.prefix().substring(prefix.length());
                    names.add(n.endsWith("/") ? n.substring(0, n.length() - 1) : n);
                }
                for (S3Object o : page.contents()) {
                    names.add(o.key().substring(prefix.length()));
                }
            }
            return null;
        });
        return List.copyOf(names);
    }

    /** Every key under {@code dir} (as bucket/key paths). */
    private List<String> keysUnder(String dir) {
        List<String> out = new ArrayList<>();
        call(dir, () -> {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(r -> r.bucket(bucket(dir)).prefix(prefix(dir)))) {
                page.contents().forEach(o -> out.add(bucket(dir) + "/" + o.key()));
            }
            return null;
        });
        return out;
    }

    @Override
    public long size(String path) {
        return call(path, () -> s3.headObject(r -> r.bucket(bucket(path)).key(key(path))).contentLength());
    }

    @Override
    public InputStream open(String path) {
        return call(path, () -> s3.getObject(r -> r.bucket(bucket(path)).key(key(path))));
    }

    @Override
    public ReadableByteChannel channel(String path) {
        return Channels.newChannel(open(path));
    }

    /** Written to a local temporary file, put as one object when closed. */
    @Override
    public OutputStream create(String path) {
        Path tmp;
        OutputStream file;
        try {
            tmp = Files.createTempFile("vineyard-io-s3-", ".part");
            file = Files.newOutputStream(tmp);
        } catch (IOException e) {
            throw new IoException(uri, null, "cannot make a local staging file: " + e, e);
        }
        return new FilterOutputStream(file) {
            private boolean closed;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                try {
                    super.close();
                    upload(tmp, path);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        };
    }

    @Override
    public void upload(Path local, String path) {
        walked = null;
        call(path, () -> s3.putObject(r -> r.bucket(bucket(path)).key(key(path)), RequestBody.fromFile(local)));
    }

    @Override
    public void mkdirs(String path) {
        // S3 has no directories: a prefix exists while a key under it does
    }

    /** Server-side copies of the object {@code from} or of every key under it, then the sources deleted. */
    @Override
    public void rename(String from, String to) {
        if (isFile(from)) {
            copy(from, to);
            delete(from);
            return;
        }
        List<String> copied = new ArrayList<>();
        try {
            for (String k : keysUnder(from)) {
                String target = to + k.substring(from.length());
                copy(k, target);
                copied.add(target);
            }
        } catch (RuntimeException e) {
            copied.forEach(this::delete);
            throw e;
        }
        delete(from);
    }

    private void copy(String from, String to) {
        walked = null;
        call(to, () -> s3.copyObject(r -> r.sourceBucket(bucket(from)).sourceKey(key(from))
                .destinationBucket(bucket(to)).destinationKey(key(to))));
    }

    @Override
    public void delete(String path) {
        walked = null;
        try {
            List<String> keys = new ArrayList<>(keysUnder(path));
            if (!key(path).isEmpty()) {
                keys.add(path);
            }
            for (String k : keys) {
                s3.deleteObject(r -> r.bucket(bucket(k)).key(key(k)));
            }
        } catch (RuntimeException ignored) {
            // best effort: a leftover hidden prefix is harmless
        }
    }

    @Override
    public IoException failure(String path, IOException e) {
        return new IoException(uri, null, path + ": " + e, e);
    }

    /** The typed error of an S3 request on {@code path}; the secret never appears in it. */
    IoException failure(String path, RuntimeException e) {
        String where = "s3://" + path;
        if (e instanceof S3Exception s) {
            String code = s.awsErrorDetails() == null ? "" : s.awsErrorDetails().errorCode();
            if (s.statusCode() == 404) {
                return new IoException.NotFound(where, "no such bucket or key (" + code + ")", e);
            }
            if (s.statusCode() == 403) {
                return new IoException.AccessDenied(where, "the storage refused the credentials (" + code + ")", e);
            }
            return new IoException(where, null, "S3 answered " + s.statusCode() + " " + code, e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.SocketTimeoutException) {
                return new IoException.Unreachable(where, "the storage is not reachable: " + t, e);
            }
        }
        return new IoException(where, null, String.valueOf(e.getMessage()), e);
    }

    @Override
    public void close() {
        s3.close();
    }
}
