package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vineyard.client.DaemonProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * bin/vineyard-webhook over real HTTPS: a certificate and key made by openssl (the key in PKCS#1, as Helm's
 * genSignedCert writes it), a client that trusts only that certificate and checks the host name, and
 * golden AdmissionReviews (src/test/resources/webhook/) whose patches are kept readable beside them.
 */
class VineyardWebhookTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private static VineyardWebhook webhook;
    private static HttpClient https;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(run("openssl", "version") == 0, "openssl is not installed");
        assertEquals(0, run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.resolve("key.pem").toString(),
                "-out", dir.resolve("cert.pem").toString(), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"));
        assertEquals(0, run("openssl", "rsa", "-in", dir.resolve("key.pem").toString(), "-traditional", "-out", dir.resolve("key-pkcs1.pem").toString()));
        assertTrue(Files.readString(dir.resolve("key-pkcs1.pem")).contains("BEGIN RSA PRIVATE KEY"), "openssl wrote PKCS#1");
        webhook = VineyardWebhook.start("127.0.0.1", 0, dir.resolve("cert.pem"), dir.resolve("key-pkcs1.pem"), "/var/run/vineyard");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(dir.resolve("cert.pem"))) {
            trust.setCertificateEntry("webhook", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        https = HttpClient.newBuilder().sslContext(tls).build();
    }

    @AfterAll
    static void stop() {
        if (webhook != null) {
            webhook.close();
        }
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        try {
            return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException e) {
            return -1; // not installed
        }
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + webhook.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"inject-bare", "inject-partial", "plain"})
    void goldenReviewGetsGoldenResponse(String golden) throws Exception {
        HttpResponse<String> r = post("/mutate", resource(golden + ".request.json").toString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode response = JSON.readTree(r.body());
        assertEquals(resource(golden + ".response.json"), response, golden);
        if (response.path("response").has("patch")) {
            assertEquals(resource(golden + ".patch.json"),
                    JSON.readTree(Base64.getDecoder().decode(response.path("response").path("patch").asText())), golden + ": the patch, decoded");
        }
    }

    @Test
    void badReviewsAreRefusedAndHealthzAnswers() throws Exception {
        HttpResponse<String> garbage = post("/mutate", "{nope");
        assertEquals(400, garbage.statusCode());
        HttpResponse<String> notReview = post("/mutate", "{\"kind\":\"Pod\"}");
        assertEquals(400, notReview.statusCode());
        assertEquals("not an AdmissionReview with a request uid\n", notReview.body());
        HttpResponse<String> health = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + webhook.port() + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
    }

    @Test
    void bothPemKeyFormsServeAndAFileWithoutAKeyIsAUsageError() throws Exception {
        VineyardWebhook.tls(dir.resolve("cert.pem"), dir.resolve("key.pem")); // PKCS#8, as openssl writes it
        IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
                () -> VineyardWebhook.tls(dir.resolve("cert.pem"), dir.resolve("cert.pem")));
        assertTrue(noKey.getMessage().contains("holds no PEM private key"), noKey.getMessage());
        List<String> cmd = List.of(DaemonProcess.javaBin(), "-cp", System.getProperty("java.class.path"), VineyardWebhook.class.getName(),
                "--port", "0", "--tls_cert", dir.resolve("cert.pem").toString(), "--tls_key", dir.resolve("cert.pem").toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.waitFor(), out);
        assertTrue(out.contains("holds no PEM private key"), out);
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = VineyardWebhookTest.class.getResourceAsStream("/webhook/" + name)) {
            if (in == null) {
                throw new IOException("no test resource webhook/" + name);
            }
            return JSON.readTree(in);
        }
    }
}
