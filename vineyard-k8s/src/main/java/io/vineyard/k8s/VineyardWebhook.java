package io.vineyard.k8s;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/vineyard-webhook --port N --tls_cert FILE --tls_key FILE [--socket_dir DIR] [--host ADDR]}: the
 * mutating admission webhook ({@link SocketInjector}) at {@code POST /mutate}, and {@code GET /healthz},
 * over HTTPS (the API server calls webhooks over TLS only). The certificate chain and key are PEM files as
 * Kubernetes TLS Secrets hold them ({@code tls.crt}, {@code tls.key}): the key PKCS#8 ({@code BEGIN PRIVATE
 * KEY}, RSA or EC) or PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}, what Helm's {@code genSignedCert} makes).
 * Listens on all addresses unless {@code --host} says otherwise; prints
 * {@code vineyard-webhook listening on https://HOST:PORT} once ready ({@code --port 0}: a free port).
 */
public final class VineyardWebhook implements AutoCloseable {
    private static final String USAGE = "Usage: vineyard-webhook --port N --tls_cert FILE --tls_key FILE [--socket_dir DIR] [--host ADDR]";
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");

    private final HttpsServer https;

    private VineyardWebhook(String host, int port, SSLContext tls, String socketDir) throws IOException {
        SocketInjector injector = new SocketInjector(socketDir);
        this.https = HttpsServer.create(new InetSocketAddress(InetAddress.getByName(host), port), 64);
        https.setHttpsConfigurator(new HttpsConfigurator(tls));
        https.createContext("/mutate", ex -> JsonHttp.serve(ex, "an AdmissionReview", injector::review));
        https.createContext("/healthz", ex -> JsonHttp.reply(ex, 200, "ok\n".getBytes(StandardCharsets.UTF_8), "text/plain"));
        https.start();
    }

    /** Starts serving on {@code host:port} with the PEM {@code cert} chain and {@code key}, injecting {@code socketDir}. */
    public static VineyardWebhook start(String host, int port, Path cert, Path key, String socketDir) throws IOException {
        return new VineyardWebhook(host, port, tls(cert, key), socketDir);
    }

    /** The port it listens on. */
    public int port() {
        return https.getAddress().getPort();
    }

    @Override
    public void close() {
        https.stop(0);
    }

    /**
     * A TLS context serving the PEM certificate chain {@code cert} with the PEM private key {@code key}.
     *
     * @throws IllegalArgumentException naming the file when it holds no usable certificate or key
     */
    static SSLContext tls(Path cert, Path key) throws IOException {
        try {
            Certificate[] chain;
            try (InputStream in = Files.newInputStream(cert)) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(Certificate[]::new);
            }
            if (chain.length == 0) {
                throw new IllegalArgumentException(cert + " holds no PEM certificate");
            }
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] none = new char[0];
            store.setKeyEntry("webhook", privateKey(key), none, chain);
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, none);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(keys.getKeyManagers(), null, null);
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot serve TLS with " + cert + " and " + key + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path key) throws IOException, GeneralSecurityException {
        Matcher m = PEM.matcher(Files.readString(key, StandardCharsets.US_ASCII));
        while (m.find()) {
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            byte[] pkcs8 = switch (m.group(1)) {
                case "PRIVATE KEY" -> der;
                case "RSA PRIVATE KEY" -> rsaPkcs1ToPkcs8(der);
                default -> null;
            };
            if (pkcs8 == null) {
                continue;
            }
            for (String algorithm : new String[] {"RSA", "EC"}) {
                try {
                    return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
                } catch (java.security.spec.InvalidKeySpecException e) {
                    // try the next algorithm
                }
            }
        }
        throw new IllegalArgumentException(key + " holds no PEM private key this webhook reads (PKCS#8 RSA/EC, or PKCS#1 RSA)");
    }

    /**
     * Wraps a PKCS#1 RSAPrivateKey in PKCS#8's PrivateKeyInfo:
     * {@code SEQUENCE { INTEGER 0, SEQUENCE { OID rsaEncryption, NULL }, OCTET STRING pkcs1 }}.
     */
    static byte[] rsaPkcs1ToPkcs8(byte[] pkcs1) {
        byte[] version = {0x02, 0x01, 0x00};
        byte[] rsaEncryption = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(version);
        body.writeBytes(rsaEncryption);
        body.writeBytes(der(0x04, pkcs1));
        return der(0x30, body.toByteArray());
    }

    /** One DER element: tag, definite length, content. */
    private static byte[] der(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = (32 - Integer.numberOfLeadingZeros(n) + 7) / 8;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    /** The command line; exit 2 on a usage error (a bad certificate or key included). */
    public static void main(String[] argv) throws Exception {
        CommandLine cli = new CommandLine("vineyard-webhook", USAGE);
        Map<String, String> flags = cli.parse(argv, Set.of("--port", "--tls_cert", "--tls_key", "--socket_dir", "--host"));
        if (flags == null) {
            return;
        }
        if (!flags.keySet().containsAll(Set.of("--port", "--tls_cert", "--tls_key"))) {
            cli.fail("--port, --tls_cert and --tls_key are required");
        }
        String host = flags.getOrDefault("--host", "0.0.0.0");
        VineyardWebhook w;
        try {
            w = start(host, cli.port(flags.get("--port")), Path.of(flags.get("--tls_cert")), Path.of(flags.get("--tls_key")),
                    flags.getOrDefault("--socket_dir", "/var/run/vineyard"));
        } catch (IllegalArgumentException | IOException e) {
            cli.fail(e.getMessage());
            return;
        }
        CommandLine.serveUntilShutdown("vineyard-webhook listening on https://" + host + ":" + w.port(), w);
    }
}
