package io.vineyard.server;

import org.mindrot.jbcrypt.BCrypt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;

/**
 * Checks register credentials against an htpasswd file, in process (vineyard spawns {@code htpasswd -v -b}
 * with the password on its argv). Supports bcrypt ({@code $2y$}/{@code $2a$}/{@code $2b$}), {@code {SHA}}
 * and plain entries; an empty file path disables authentication.
 */
public final class Authenticator {
    private final Path file;

    Authenticator(String file) {
        this.file = file == null || file.isEmpty() ? null : Path.of(file);
    }

    public boolean enabled() {
        return file != null;
    }

    /** Returns null when the credentials are accepted, else the reason. */
    public String verify(String user, String password) {
        if (file == null) {
            return null;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "cannot read the htpasswd file " + file + ": " + e.getMessage();
        }
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon <= 0 || !line.substring(0, colon).equals(user)) {
                continue;
            }
            String hash = line.substring(colon + 1).trim();
            return matches(hash, password == null ? "" : password) ? null : "password verification failed";
        }
        return "User " + (user == null ? "" : user) + " not found";
    }

    private static boolean matches(String hash, String password) {
        if (hash.startsWith("$2y$") || hash.startsWith("$2b$") || hash.startsWith("$2a$")) {
            try {
                return BCrypt.checkpw(password, "$2a$" + hash.substring(4));
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        if (hash.startsWith("{SHA}")) {
            try {
                byte[] d = MessageDigest.getInstance("SHA-1").digest(password.getBytes(StandardCharsets.UTF_8));
                return MessageDigest.isEqual(Base64.getDecoder().decode(hash.substring(5)), d);
            } catch (NoSuchAlgorithmException | IllegalArgumentException e) {
                return false;
            }
        }
        if (hash.startsWith("$")) {
            return false; // apr1/crypt variants are not supported
        }
        return MessageDigest.isEqual(hash.getBytes(StandardCharsets.UTF_8), password.getBytes(StandardCharsets.UTF_8));
    }
}
