package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import io.vineyard.server.VineyardServer;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobStore;
import io.vineyard.server.store.Client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decodes vineyard's request types and runs them against the stores (spec 1.6). Reply shapes, field
 * names and status codes follow vineyard 0.24.4; where vineyard's behaviour is a bug the shape is kept
 * and the behaviour fixed (see the README's list of deliberate differences).
 */
public final class RequestDispatcher {
    /** Request types of vineyard 0.24 whose features have not landed here yet: answered NotImplemented. */
    private static final Set<String> NOT_IMPLEMENTED = Set.of(
            "new_session_request", "delete_session_request",
            "create_stream_request", "open_stream_request", "get_next_stream_chunk_request",
            "push_next_stream_chunk_request", "pull_next_stream_chunk_request", "stop_stream_request",
            "drop_stream_request", "make_arena_request", "finalize_arena_request", "evict_request",
            "load_request", "unpin_request", "is_spilled_request", "migrate_object_request",
            "acquire_lock_request", "release_lock_request", "create_gpu_buffer_request",
            "get_gpu_buffers_request", "create_buffer_by_plasma_request", "get_buffers_by_plasma_request",
            "plasma_seal_request", "plasma_release_request", "plasma_delete_data_request",
            "move_buffers_ownership_request", "release_blobs_with_rdma_request");

    private final VineyardServer server;
    private final RemoteTransfer remote;
    private final RequestStats stats = new RequestStats();

    public RequestDispatcher(VineyardServer server) {
        this.server = server;
        this.remote = new RemoteTransfer(server);
    }

    RequestStats stats() {
        return stats;
    }

    void dispatch(ClientConnection conn, String type, ObjectNode req) {
        switch (type) {
            case "register_request" -> register(conn, req);
            case "exit_request" -> conn.requestExit();
            case "instance_status_request" -> conn.send(instanceStatus());
            case "cluster_meta" -> conn.send(clusterMeta());
            case "create_buffer_request" -> createBuffer(conn, req);
            case "create_buffers_request" -> createBuffers(conn, req);
            case "create_disk_buffer_request" -> createDiskBuffer(conn, req);
            case "seal_request" -> seal(conn, req);
            case "get_buffers_request" -> getBuffers(conn, req);
            case "drop_buffer_request" -> dropBuffer(conn, req);
            case "shrink_buffer_request" -> shrinkBuffer(conn, req);
            case "release_request" -> release(conn, req);
            case "increase_reference_count_request" -> increaseReferenceCount(conn, req);
            case "del_data_with_feedbacks_request" -> deleteData(conn, req, true);
            case "del_data_request" -> deleteData(conn, req, false);
            case "create_data_request" -> createData(conn, req);
            case "create_datas_request" -> createDatas(conn, req);
            case "get_data_request" -> getData(conn, req);
            case "list_data_request" -> listData(conn, req);
            case "exists_request" -> exists(conn, req);
            case "persist_request" -> persist(conn, req);
            case "if_persist_request" -> ifPersist(conn, req);
            case "label_request" -> label(conn, req);
            case "clear_request" -> clear(conn);
            case "memory_trim_request" -> conn.send(reply("memory_trim_reply").put("trimmed", false));
            case "shallow_copy_request" -> shallowCopy(conn, req);
            case "put_name_request" -> putName(conn, req);
            case "get_name_request" -> getName(conn, req);
            case "list_name_request" -> listName(conn, req);
            case "drop_name_request" -> dropName(conn, req);
            case "is_in_use_request" -> isInUse(conn, req);
            case "debug_command" -> conn.send(reply("debug_reply").putNull("result"));
            case "create_remote_buffer_request" -> remote.createRemoteBuffers(conn, req, false);
            case "create_remote_buffers_request" -> remote.createRemoteBuffers(conn, req, true);
            case "get_remote_buffers_request" -> remote.getRemoteBuffers(conn, req);
            case "put_object_request" -> putObject(conn, req);
            case "get_object_request" -> getObject(conn, req);
            case "release_buffers_request" -> releaseBuffers(conn, req);
            case "server_stats_request" -> {
                ObjectNode r = reply("server_stats_reply");
                r.set("requests", stats.toJson());
                r.put("unexpected_errors", ClientConnection.UNEXPECTED_ERRORS.get());
                conn.send(r);
            }
            default -> {
                if (NOT_IMPLEMENTED.contains(type)) {
                    throw new VineyardException.NotImplemented(type + " is not implemented by this vineyardd yet");
                }
                throw new VineyardException.Invalid("Got unexpected command: " + type);
            }
        }
    }

    static ObjectNode reply(String type) {
        ObjectNode r = Json.object();
        r.put("type", type);
        return r;
    }

    // ---- connection ------------------------------------------------------------------------------

    private void register(ClientConnection conn, ObjectNode req) {
        Fields.string(req, "version", "0.0.0"); // read and type-checked, never enforced (as vineyard)
        JsonNode storeType = req.get("store_type");
        boolean storeMatch = storeType != null
                && (storeType.isIntegralNumber() && storeType.longValue() == 1
                || storeType.isTextual() && storeType.textValue().equals("Normal"));
        long session = Fields.u64(req, "session_id", 0);
        if (session != 0) {
            throw new VineyardException.Invalid("session " + Long.toUnsignedString(session)
                    + " does not exist: this vineyardd serves only the root session 0");
        }
        if (server.authenticator().enabled()) {
            String why = server.authenticator().verify(Fields.string(req, "username", ""),
                    Fields.string(req, "password", ""));
            if (why != null) {
                throw new VineyardException(Status.CONNECTION_ERROR,
                        "IOError: Incorrect username and password: " + why);
            }
        }
        conn.markRegistered();
        ObjectNode r = reply("register_reply");
        r.put("ipc_socket", server.config().socketPath());
        r.put("rpc_endpoint", server.rpcEndpoint());
        r.put("instance_id", server.instanceId());
        r.put("session_id", 0);
        r.put("version", VineyardServer.VERSION);
        r.put("store_match", storeMatch);
        r.put("support_rpc_compression", server.config().compression());
        conn.send(r);
    }

    private ObjectNode instanceStatus() {
        ObjectNode meta = server.locked(() -> {
            ObjectNode m = Json.object();
            m.put("instance_id", server.instanceId());
            m.put("deployment", server.config().deployment());
            m.put("memory_usage", server.blobs().usageBytes());
            m.put("memory_limit", server.blobs().limitBytes());
            m.put("deferred_requests", server.deferredRequests());
            m.put("ipc_connections", server.ipcConnections());
            m.put("rpc_connections", server.rpcConnections());
            return m;
        });
        ObjectNode r = reply("instance_status_reply");
        r.set("meta", meta);
        return r;
    }

    private ObjectNode clusterMeta() {
        ObjectNode self = Json.object();
        self.put("hostid", Integer.toUnsignedLong(server.hostname().hashCode()));
        self.put("hostname", server.hostname());
        self.put("ipc_socket", server.config().socketPath());
        self.put("nodename", server.hostname());
        self.put("rpc_endpoint", server.rpcEndpoint());
        self.put("timestamp", server.startMs());
        ObjectNode meta = Json.object();
        meta.set("i" + server.instanceId(), self);
        ObjectNode r = reply("cluster_meta");
        r.set("meta", meta);
        return r;
    }

    // ---- blobs -----------------------------------------------------------------------------------

    private void createBuffer(ClientConnection conn, ObjectNode req) {
        long size = Fields.u64(req, "size");
        Client client = conn.client();
        BlobStore blobs = server.blobs();
        ObjectNode r = reply("create_buffer_reply");
        int fd = server.locked(() -> {
            Blob blob = blobs.create(size, client);
            r.set("id", Json.u64(blob.id()));
            r.set("created", blobs.payload(blob));
            return blobs.fdOf(blob);
        });
        int toSend = newFd(conn, fd);
        r.put("fd", toSend);
        conn.send(r);
        if (toSend >= 0) {
            conn.sendFd(toSend);
        }
    }

    private void createBuffers(ClientConnection conn, ObjectNode req) {
        JsonNode sizesNode = req.get("sizes");
        long[] sizes;
        if (sizesNode != null && sizesNode.isArray()) {
            sizes = Fields.idArray(req, "sizes");
        } else {
            throw new VineyardException.Invalid("create_buffers_request needs an array 'sizes'");
        }
        long num = Fields.u64(req, "num", sizes.length);
        if (num != sizes.length) {
            throw new VineyardException.Invalid("create_buffers_request: num is " + num + " but sizes has "
                    + sizes.length + " entries");
        }
        BlobStore blobs = server.blobs();
        Client client = conn.client();
        List<ObjectNode> payloads = new ArrayList<>();
        ArrayNode ids = Json.NODES.arrayNode();
        TreeSet<Integer> fds = new TreeSet<>();
        server.locked(() -> {
            for (Blob blob : blobs.createAll(sizes, client)) {
                ids.add(Json.u64(blob.id()));
                payloads.add(blobs.payload(blob));
                int fd = blobs.fdOf(blob);
                if (fd >= 0) {
                    fds.add(fd);
                }
            }
            return null;
        });
        List<Integer> toSend = newFds(conn, fds);
        ObjectNode r = reply("create_buffers_reply");
        r.put("num", sizes.length);
        r.set("ids", ids);
        ArrayNode fdArr = r.putArray("fds");
        toSend.forEach(fdArr::add);
        Fields.putLegacyList(r, "payloads", payloads);
        conn.send(r);
        toSend.forEach(conn::sendFd);
    }

    private void createDiskBuffer(ClientConnection conn, ObjectNode req) {
        long size = Fields.u64(req, "size");
        String path = Fields.string(req, "path", "");
        if (size <= 0 || size > (1L << 46)) {
            throw new VineyardException.Invalid("create_disk_buffer: size must be between 1 and 2^46 bytes, got "
                    + Long.toUnsignedString(size));
        }
        int fd = openDiskFile(path, size);
        BlobStore blobs = server.blobs();
        ObjectNode r = reply("create_disk_buffer_reply");
        server.locked(() -> {
            Blob blob = blobs.createDisk(fd, size, conn.client());
            r.set("id", Json.u64(blob.id()));
            r.set("created", blobs.payload(blob));
            return null;
        });
        int toSend = newFd(conn, fd);
        r.put("fd", toSend);
        conn.send(r);
        if (toSend >= 0) {
            conn.sendFd(toSend);
        }
    }

    /**
     * Opens (or creates) the file behind a disk blob. Unlike vineyard, an existing file is only ever
     * extended, never truncated, and must be a regular file reached without following a symlink: a
     * client request cannot destroy a file's contents.
     */
    private static int openDiskFile(String path, long size) {
        Path file;
        boolean unlink = path.isEmpty();
        long existing = -1;
        try {
            file = unlink ? Files.createTempFile("vineyard-disk-", ".blob") : Path.of(path);
            if (!unlink && Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new VineyardException.Invalid("create_disk_buffer: " + path + " is not a regular file");
                }
                existing = Files.size(file);
            }
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw new VineyardException(Status.IO_ERROR, "create_disk_buffer: cannot use '" + path + "': " + e.getMessage());
        }
        int flags = 02 | 0100 | 02000000 | 0400000; // O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW
        int fd = Posix.open(file.toString(), flags, 0600);
        if (fd < 0) {
            throw new VineyardException(Status.IO_ERROR, "create_disk_buffer: " + Posix.error("open " + file).getMessage());
        }
        if (existing < size && Posix.ftruncate(fd, size) != 0) {
            String msg = Posix.error("extend " + file + " to " + size + " bytes").getMessage();
            Posix.close(fd);
            throw new VineyardException(Status.IO_ERROR, "create_disk_buffer: " + msg);
        }
        if (unlink) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // the file stays; the blob still works
            }
        }
        return fd;
    }

    private void seal(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        server.locked(() -> {
            server.blobs().seal(id, conn.client());
            return null;
        });
        conn.send(reply("seal_reply"));
    }

    private void getBuffers(ClientConnection conn, ObjectNode req) {
        long[] ids = Fields.legacyIds(req, "ids");
        boolean unsafe = Fields.bool(req, "unsafe", false);
        BlobStore blobs = server.blobs();
        List<ObjectNode> payloads = new ArrayList<>(ids.length);
        List<Integer> fds = new ArrayList<>(1);
        server.locked(() -> {
            describe(blobs, blobs.get(ids, unsafe, conn.client()), payloads, fds);
            return null;
        });
        List<Integer> toSend = newFds(conn, fds);
        ObjectNode r = reply("get_buffers_reply");
        Fields.putLegacyList(r, "payloads", payloads);
        ArrayNode fdArr = r.putArray("fds");
        toSend.forEach(fdArr::add);
        r.put("num", payloads.size());
        r.put("compress", false);
        conn.send(r);
        toSend.forEach(conn::sendFd);
    }

    /** Adds each blob's payload, and each store fd they need once, in payload order (under the store lock). */
    private static void describe(BlobStore blobs, List<Blob> got, List<ObjectNode> payloads, List<Integer> fds) {
        for (Blob blob : got) {
            payloads.add(blobs.payload(blob));
            int fd = blobs.fdOf(blob);
            if (fd >= 0 && !fds.contains(fd)) {
                fds.add(fd);
            }
        }
    }

    private void dropBuffer(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean existed = server.locked(() -> server.blobs().delete(id, conn.client(), false));
        if (!existed) {
            throw new VineyardException.ObjectNotExists("drop_buffer: blob " + ObjectIds.toText(id) + " does not exist");
        }
        conn.send(reply("drop_buffer_reply"));
    }

    private void shrinkBuffer(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        long size = Fields.u64(req, "size");
        server.locked(() -> {
            server.blobs().shrink(id, size);
            return null;
        });
        conn.send(reply("shrink_buffer_reply"));
    }

    private void release(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        server.locked(() -> {
            server.blobs().release(id, conn.client());
            return null;
        });
        conn.send(reply("release_reply"));
    }

    private void increaseReferenceCount(ClientConnection conn, ObjectNode req) {
        long[] ids = Fields.idArray(req, "ids");
        server.locked(() -> {
            server.blobs().increaseReferenceCount(ids, conn.client());
            return null;
        });
        conn.send(reply("increase_reference_count_reply"));
    }

    private void isInUse(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean inUse = server.locked(() -> server.blobs().isInUse(id));
        conn.send(reply("is_in_use_reply").put("is_in_use", inUse));
    }

    // ---- metadata --------------------------------------------------------------------------------

    private void deleteData(ClientConnection conn, ObjectNode req, boolean feedbacks) {
        long[] ids = Fields.idArray(req, "id");
        boolean force = Fields.bool(req, "force", false);
        boolean deep = Fields.bool(req, "deep", true);
        boolean trim = Fields.bool(req, "memory_trim", false);
        boolean fastpath = Fields.bool(req, "fastpath", false);
        List<Long> deleted = server.lockedChange(() -> {
            if (fastpath) {
                List<Long> out = new ArrayList<>();
                for (long id : ids) {
                    if (ObjectIds.isBlob(id) && server.blobs().delete(id, conn.client(), trim)) {
                        out.add(id);
                    }
                }
                return out;
            }
            return server.meta().delete(ids, force, deep, conn.client(), trim);
        });
        if (feedbacks) {
            ObjectNode r = reply("del_data_with_feedbacks_reply");
            ArrayNode arr = r.putArray("deleted_bids");
            deleted.forEach(id -> arr.add(Json.u64(id)));
            conn.send(r);
        } else {
            conn.send(reply("del_data_reply"));
        }
    }

    private void createData(ClientConnection conn, ObjectNode req) {
        JsonNode content = req.get("content");
        MetaStore.Created c = server.lockedChange(() -> server.meta().create(content));
        ObjectNode r = reply("create_data_reply");
        r.set("id", Json.u64(c.id()));
        r.set("signature", Json.u64(c.signature()));
        r.put("instance_id", c.instanceId());
        conn.send(r);
    }

    private void createDatas(ClientConnection conn, ObjectNode req) {
        JsonNode contents = req.get("contents");
        if (contents == null || !contents.isArray()) {
            throw new VineyardException.Invalid("create_datas_request needs an array 'contents'");
        }
        List<MetaStore.Created> made = server.lockedChange(() -> {
            List<MetaStore.Created> out = new ArrayList<>();
            for (JsonNode content : contents) {
                out.add(server.meta().create(content));
            }
            return out;
        });
        ObjectNode r = reply("create_datas_reply");
        r.put("num", made.size());
        ArrayNode ids = r.putArray("ids");
        ArrayNode sigs = r.putArray("signatures");
        ArrayNode insts = r.putArray("instance_ids");
        for (MetaStore.Created c : made) {
            ids.add(Json.u64(c.id()));
            sigs.add(Json.u64(c.signature()));
            insts.add(c.instanceId());
        }
        conn.send(r);
    }

    private void getData(ClientConnection conn, ObjectNode req) {
        long[] ids = Fields.idArray(req, "id");
        boolean wait = Fields.bool(req, "wait", false);
        Fields.bool(req, "sync_remote", false);
        MetaStore meta = server.meta();
        JsonNode content;
        if (wait) {
            try {
                content = server.awaitUnderLock(() -> {
                    ObjectNode c = collect(meta, ids);
                    return c != null && c.size() == distinct(ids) ? c : null;
                }, conn);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (content == null) {
                return; // the peer left or the daemon stops: nobody to answer
            }
        } else {
            content = server.locked(() -> collect(meta, ids));
        }
        ObjectNode r = reply("get_data_reply");
        r.set("content", content == null ? Json.NODES.nullNode() : content);
        conn.send(r);
    }

    private static int distinct(long[] ids) {
        return (int) java.util.Arrays.stream(ids).distinct().count();
    }

    private static ObjectNode collect(MetaStore meta, long[] ids) {
        ObjectNode content = null;
        for (long id : ids) {
            ObjectNode tree = meta.get(id);
            if (tree != null) {
                if (content == null) {
                    content = Json.object();
                }
                content.set(ObjectIds.toText(id), tree);
            }
        }
        return content;
    }

    private void listData(ClientConnection conn, ObjectNode req) {
        String pattern = Fields.string(req, "pattern", "*");
        boolean regex = Fields.bool(req, "regex", false);
        long limit = Fields.u64(req, "limit", 5);
        ObjectNode content = server.locked(() -> server.meta().list(pattern, regex, limit));
        ObjectNode r = reply("get_data_reply");
        r.set("content", content == null || content.isEmpty() ? Json.NODES.nullNode() : content);
        conn.send(r);
    }

    private void exists(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean exists = server.locked(() -> ObjectIds.isBlob(id) ? server.blobs().exists(id) : server.meta().exists(id));
        conn.send(reply("exists_reply").put("exists", exists));
    }

    private void persist(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        server.lockedChange(() -> {
            server.meta().persist(id);
            return null;
        });
        conn.send(reply("persist_reply"));
    }

    private void ifPersist(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean persistent = server.locked(() -> server.meta().isPersistent(id));
        conn.send(reply("if_persist_reply").put("persist", persistent));
    }

    private void label(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        List<String> keys = Fields.strings(req, "keys");
        List<String> values = Fields.strings(req, "values");
        if (keys.size() != values.size()) {
            throw new VineyardException.Invalid("label_request: " + keys.size() + " keys but " + values.size() + " values");
        }
        server.lockedChange(() -> {
            server.meta().label(id, keys, values);
            return null;
        });
        conn.send(reply("label_reply"));
    }

    private void clear(ClientConnection conn) {
        server.lockedChange(() -> server.meta().clear(conn.client()));
        conn.send(reply("clear_reply"));
    }

    private void shallowCopy(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "id");
        JsonNode extra = req.get("extra");
        if (extra != null && !extra.isNull() && !extra.isObject()) {
            throw new VineyardException.Invalid("shallow_copy_request: 'extra' must be an object");
        }
        ObjectNode extraObj = extra != null && extra.isObject() ? (ObjectNode) extra : null;
        long target = server.lockedChange(() -> server.meta().shallowCopy(id, extraObj));
        ObjectNode r = reply("shallow_copy_reply");
        r.set("target_id", Json.u64(target));
        conn.send(r);
    }

    // ---- names -----------------------------------------------------------------------------------

    private void putName(ClientConnection conn, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        String name = Fields.string(req, "name");
        server.lockedChange(() -> {
            server.meta().putName(id, name);
            return null;
        });
        conn.send(reply("put_name_reply"));
    }

    private void getName(ClientConnection conn, ObjectNode req) {
        String name = Fields.string(req, "name");
        boolean wait = Fields.bool(req, "wait", false);
        Long id;
        if (wait) {
            try {
                id = server.awaitUnderLock(() -> server.meta().getName(name), conn);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (id == null) {
                return;
            }
        } else {
            id = server.locked(() -> server.meta().getName(name));
            if (id == null) {
                throw new VineyardException.ObjectNotExists("failed to find name: " + name);
            }
        }
        ObjectNode r = reply("get_name_reply");
        r.set("object_id", Json.u64(id));
        conn.send(r);
    }

    private void listName(ClientConnection conn, ObjectNode req) {
        String pattern = Fields.string(req, "pattern", "*");
        boolean regex = Fields.bool(req, "regex", false);
        long limit = Fields.u64(req, "limit", 5);
        Map<String, Long> names = server.locked(() -> server.meta().listNames(pattern, regex, limit));
        ObjectNode r = reply("list_name_reply");
        ObjectNode out = r.putObject("names");
        if (names != null) {
            names.forEach((k, v) -> out.set(k, Json.u64(v)));
        }
        r.put("size", out.size());
        conn.send(r);
    }

    private void dropName(ClientConnection conn, ObjectNode req) {
        String name = Fields.string(req, "name");
        server.lockedChange(() -> {
            server.meta().dropName(name);
            return null;
        });
        conn.send(reply("drop_name_reply"));
    }

    // ---- extensions (vineyard-java SDKs; old clients never send them) ---------------------------------

    /**
     * {@code put_object_request {seal:[blob ids], content:{tree}, persist:bool, name:str, release:bool}}:
     * seals the blobs, creates the metadata, persists and names it, in one request. Nothing changes when
     * the request fails. With {@code release:true} the connection then drops its own holds on the blobs it
     * sealed (what vineyard's builder does after sealing), so deleting the object frees them even while
     * the producer stays connected.
     */
    private void putObject(ClientConnection conn, ObjectNode req) {
        long[] toSeal = req.has("seal") ? Fields.idArray(req, "seal") : new long[0];
        JsonNode content = req.get("content");
        String name = Fields.string(req, "name", null);
        boolean persist = Fields.bool(req, "persist", false) || name != null;
        boolean release = Fields.bool(req, "release", false);
        MetaStore.Created c = server.lockedChange(() -> {
            for (long id : toSeal) {
                if (!server.blobs().exists(id)) {
                    throw new VineyardException.ObjectNotExists("put_object: blob " + ObjectIds.toText(id) + " does not exist");
                }
            }
            MetaStore.Created created = server.meta().create(content);
            for (long id : toSeal) {
                server.blobs().seal(id, conn.client());
            }
            if (persist) {
                server.meta().persist(created.id());
            }
            if (name != null) {
                server.meta().putName(created.id(), name);
            }
            if (release) {
                for (long id : toSeal) {
                    server.blobs().releaseIfHeld(id, conn.client());
                }
            }
            return created;
        });
        ObjectNode r = reply("put_object_reply");
        r.set("id", Json.u64(c.id()));
        r.set("signature", Json.u64(c.signature()));
        r.put("instance_id", c.instanceId());
        conn.send(r);
    }

    /**
     * {@code get_object_request {id | name, wait, unsafe}}: the object's metadata tree and the payloads
     * of every blob in it (held by this connection, as {@code get_buffers} does), with new fds passed
     * after the reply, in one request.
     */
    private void getObject(ClientConnection conn, ObjectNode req) {
        String name = Fields.string(req, "name", null);
        boolean wait = Fields.bool(req, "wait", false);
        boolean unsafe = Fields.bool(req, "unsafe", false);
        long explicitId = name == null ? Fields.u64(req, "id") : 0;
        MetaStore meta = server.meta();
        BlobStore blobs = server.blobs();
        List<ObjectNode> payloads = new ArrayList<>();
        List<Integer> fds = new ArrayList<>(1);
        java.util.function.Supplier<ObjectNode> lookup = () -> {
            Long id = name == null ? Long.valueOf(explicitId) : meta.getName(name);
            ObjectNode tree = id == null ? null : meta.get(id);
            if (tree == null) {
                return null;
            }
            List<Long> blobIds = new ArrayList<>();
            collectBlobIds(tree, blobIds);
            describe(blobs, blobs.get(blobIds.stream().mapToLong(Long::longValue).toArray(), unsafe, conn.client()),
                    payloads, fds);
            ObjectNode found = Json.object();
            found.set("id", Json.u64(id));
            found.set("content", tree);
            return found;
        };
        ObjectNode found;
        if (wait) {
            try {
                found = server.awaitUnderLock(lookup, conn);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (found == null) {
                return;
            }
        } else {
            found = server.locked(lookup);
            if (found == null) {
                throw new VineyardException.ObjectNotExists(name != null ? "failed to find name: " + name
                        : "get_object: object " + ObjectIds.toText(explicitId) + " does not exist");
            }
        }
        List<Integer> toSend = newFds(conn, fds);
        ObjectNode r = reply("get_object_reply");
        r.set("id", found.get("id"));
        r.set("content", found.get("content"));
        r.putArray("payloads").addAll(payloads);
        ArrayNode fdArr = r.putArray("fds");
        toSend.forEach(fdArr::add);
        conn.send(r);
        toSend.forEach(conn::sendFd);
    }

    private static void collectBlobIds(JsonNode tree, List<Long> out) {
        if ("vineyard::Blob".equals(tree.path("typename").asText()) && tree.has("id")) {
            out.add(Json.readU64(tree.get("id"), "id"));
            return;
        }
        for (JsonNode child : tree) {
            if (child.isObject()) {
                collectBlobIds(child, out);
            }
        }
    }

    /**
     * {@code release_buffers_request {ids:[...], reply:bool}}: drops this connection's holds on many
     * blobs; unknown ids are skipped. With {@code reply:false} it is one-way: nothing is sent back,
     * not even an error, so a client can put it in front of its next request at no cost.
     */
    private void releaseBuffers(ClientConnection conn, ObjectNode req) {
        boolean answer = Fields.bool(req, "reply", true);
        try {
            long[] ids = Fields.idArray(req, "ids");
            server.locked(() -> {
                for (long id : ids) {
                    server.blobs().releaseIfHeld(id, conn.client());
                }
                return null;
            });
        } catch (VineyardException e) {
            if (answer) {
                throw e;
            }
            return; // one-way: nobody to tell
        }
        if (answer) {
            conn.send(reply("release_buffers_reply"));
        }
    }

    // ---- fds -------------------------------------------------------------------------------------

    /** The fd to pass for this reply: -1 when none is needed, already sent, or the link is TCP. */
    private static int newFd(ClientConnection conn, int fd) {
        if (fd < 0 || conn.isRpc()) {
            return -1;
        }
        return conn.client().markFdSent(fd) ? fd : -1;
    }

    private static List<Integer> newFds(ClientConnection conn, Iterable<Integer> fds) {
        List<Integer> out = new ArrayList<>(1);
        for (int fd : fds) {
            int n = newFd(conn, fd);
            if (n >= 0) {
                out.add(n);
            }
        }
        return out;
    }
}
