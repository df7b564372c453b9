package io.vineyard.server.stream;

import io.vineyard.common.ObjectIds;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.Waits;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLinks;
import io.vineyard.server.store.BlobStore;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The daemon's streams (spec 5), with vineyard's rules: at most one reader and one writer opened
 * per stream; a server-allocated chunk ({@code get_next_stream_chunk}) seals and queues the
 * previous one; {@code pull_next_stream_chunk} deletes the chunk read before and hands out the
 * next; {@code stop_stream} ends the stream as drained or failed; {@code drop_stream} fails it and
 * deletes what is queued.
 *
 * <p>Where vineyard leaves a party waiting forever, this store answers instead: a writer that goes
 * away without stopping fails the stream (its reader gets the queued chunks, then
 * {@code StreamFailed}); a reader that goes away drops the stream (a waiting writer gets
 * {@code InvalidStreamState}). Backpressure counts the bytes of the chunks streams hold (queued,
 * being written, being read), server-allocated and client-pushed alike, against
 * {@code --stream_threshold} percent of the pool.
 *
 * <p>Every method runs under the store lock; signals go through {@link Waits}, whose waiters are
 * woken after the lock is released. Methods that may have to wait return null ("not yet") and are
 * re-tried by the caller's wait when a key of {@link #waitKeys} changes.
 */
public final class StreamStore {
    /** {@code open_stream} modes (vineyard's {@code StreamOpenMode}). */
    public static final int READ = 1;
    public static final int WRITE = 2;

    private final BlobStore blobs;
    private final MetaStore meta;
    private final Waits waits;
    private final long thresholdBytes;
    private final Map<Long, Stream> streams = new HashMap<>();
    private long bytes;
    private long peakBytes;

    public StreamStore(BlobStore blobs, MetaStore meta, Waits waits, long thresholdBytes) {
        this.blobs = blobs;
        this.meta = meta;
        this.waits = waits;
        this.thresholdBytes = thresholdBytes;
    }

    /** One queued, written or read chunk: a blob or an object, and the bytes counted for it. */
    private record Chunk(long id, long bytes) {
    }

    private static final class Stream {
        final long id;
        int openMark;
        BlobLinks reader;
        BlobLinks writer;
        Chunk writing;
        Chunk reading;
        final ArrayDeque<Chunk> ready = new ArrayDeque<>();
        boolean drained;
        boolean failed;
        String failure = "";
        boolean readerWaiting;
        boolean writerWaiting;
        /** The reader has gone or the stream was dropped: nobody will read what is left. */
        boolean finished;

        Stream(long id) {
            this.id = id;
        }

        boolean stopped() {
            return drained || failed;
        }
    }

    /** The bytes stream chunks hold now, the most they ever held, and the threshold. */
    public record Usage(int streams, long bytes, long peakBytes, long thresholdBytes) {
    }

    /** The stream memory writers may fill before they wait (fixed at start). */
    public long thresholdBytes() {
        return thresholdBytes;
    }

    public Usage usage() {
        return new Usage(streams.size(), bytes, peakBytes, thresholdBytes);
    }

    /** The keys a waiting reader or writer of stream {@code id} re-checks on. */
    public static java.util.List<Waits.Key> waitKeys(long id) {
        return java.util.List.of(new Waits.Stream(id), Waits.StreamMemory.KEY);
    }

    /** {@code create_stream}. */
    public void create(long id) {
        if (streams.containsKey(id)) {
            throw new VineyardException(Status.OBJECT_EXISTS,
                    "Failed to create the stream as it is already exists: " + ObjectIds.toText(id));
        }
        streams.put(id, new Stream(id));
    }

    /** {@code open_stream}: records {@code by} as the stream's reader or writer. */
    public void open(long id, long mode, BlobLinks by) {
        Stream s = streams.get(id);
        if (s == null) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, "stream cannot be open: " + ObjectIds.toText(id));
        }
        if (mode != READ && mode != WRITE) {
            throw new VineyardException.Invalid("open_stream: mode must be 1 (read) or 2 (write), got " + mode);
        }
        if ((s.openMark & mode) != 0) {
            throw new VineyardException(Status.STREAM_OPENED, "Stream already opened");
        }
        s.openMark |= (int) mode;
        if (mode == READ) {
            s.reader = by;
        } else {
            s.writer = by;
        }
    }

    private Stream find(long id, String what) {
        Stream s = streams.get(id);
        if (s == null) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, what + ": no stream " + ObjectIds.toText(id));
        }
        return s;
    }

    private static VineyardException invalidState(Stream s, String why) {
        return new VineyardException(Status.INVALID_STREAM_STATE, why + " (stream " + ObjectIds.toText(s.id)
                + (s.failure.isEmpty() ? "" : ": " + s.failure) + ")");
    }

    /** The writer's first step of {@code get_next_stream_chunk} / {@code push_next_stream_chunk}. */
    private Stream beginWrite(long id, BlobLinks by, String what) {
        Stream s = find(id, what);
        if (s.writerWaiting) {
            throw invalidState(s, "a writer is already waiting on this stream");
        }
        if (s.stopped()) {
            dropWriting(s, by);
            throw invalidState(s, s.failed ? "the stream has failed" : "the stream is already stopped");
        }
        if (s.writer == null) {
            s.writer = by; // vineyard lets a connection write without opening: it is the writer now
        }
        queueWriting(s, by);
        return s;
    }

    /** Seals the chunk being written and queues it for the reader. */
    private void queueWriting(Stream s, BlobLinks writer) {
        if (s.writing == null) {
            return;
        }
        Chunk c = s.writing;
        s.writing = null;
        Blob b = blobs.find(c.id);
        if (b == null) {
            release(c);
            return;
        }
        blobs.seal(c.id, writer);
        blobs.keepResident(c.id); // the reader maps it whenever it pulls: never spilled
        blobs.releaseIfHeld(c.id, writer); // the stream owns a queued chunk, not its writer
        s.ready.add(c);
        waits.signal(new Waits.Stream(s.id));
    }

    /** A writer that will write no more: its unsealed chunk goes. */
    private void dropWriting(Stream s, BlobLinks writer) {
        if (s.writing != null) {
            blobs.delete(s.writing.id, writer, false);
            release(s.writing);
            s.writing = null;
        }
    }

    /**
     * Starts {@code get_next_stream_chunk}: queues the previous chunk and allocates the next, or
     * returns null when the stream's memory is full (the caller waits and calls {@link #retryAllocate}).
     */
    public Blob beginNextChunk(long id, long size, BlobLinks by) {
        Stream s = beginWrite(id, by, "failed to allocate from stream");
        checkFits(size);
        Blob b = tryAllocate(s, size, by);
        s.writerWaiting = b == null;
        return b;
    }

    /** A waiting {@code get_next_stream_chunk} looks again: the chunk, or null to go on waiting. */
    public Blob retryAllocate(long id, long size, BlobLinks by) {
        return retryWrite(id, s -> tryAllocate(s, size, by));
    }

    /**
     * One more look of a waiting writer: {@code step} gives the result, or null to go on waiting. A
     * result or an error (the pool itself full, the chunk deleted meanwhile) ends the wait.
     */
    private <T> T retryWrite(long id, java.util.function.Function<Stream, T> step) {
        Stream s = waitingWriter(id);
        try {
            T out = step.apply(s);
            if (out != null) {
                s.writerWaiting = false;
            }
            return out;
        } catch (RuntimeException e) {
            s.writerWaiting = false;
            throw e;
        }
    }

    private Stream waitingWriter(long id) {
        String why = "the stream has failed while the writer waited";
        Stream s = streams.get(id);
        if (s == null) {
            throw new VineyardException(Status.INVALID_STREAM_STATE, why + " (stream " + ObjectIds.toText(id) + ")");
        }
        if (s.failed) {
            s.writerWaiting = false;
            throw invalidState(s, why);
        }
        return s;
    }

    private void checkFits(long size) {
        if (size > thresholdBytes) {
            throw new VineyardException.NotEnoughMemory("a stream chunk of " + size + " bytes can never fit under"
                    + " --stream_threshold (" + thresholdBytes + " bytes of stream memory)");
        }
    }

    /** True when {@code size} more bytes keep stream memory within the threshold. */
    private boolean fits(long size) {
        return bytes + size <= thresholdBytes;
    }

    private Blob tryAllocate(Stream s, long size, BlobLinks by) {
        if (!fits(size)) {
            return null;
        }
        Blob b = blobs.create(size, by);
        if (b.id() != ObjectIds.EMPTY_BLOB_ID) {
            s.writing = new Chunk(b.id(), size);
            count(size);
        }
        return b;
    }

    /**
     * Starts {@code push_next_stream_chunk}: true when the chunk was queued, false when the stream's
     * memory is full (the caller waits and calls {@link #retryPush}).
     */
    public boolean beginPush(long id, long chunk, BlobLinks by) {
        Stream s = beginWrite(id, by, "failed to push to stream");
        long size = chunkBytes(chunk);
        checkFits(size);
        boolean done = tryPush(s, chunk, size);
        s.writerWaiting = !done;
        return done;
    }

    /** A waiting push looks again. */
    public boolean retryPush(long id, long chunk) {
        return retryWrite(id, s -> tryPush(s, chunk, chunkBytes(chunk)) ? Boolean.TRUE : null) != null;
    }

    private long chunkBytes(long chunk) {
        long size = meta.blobBytes(chunk);
        if (size < 0) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, "push_next_stream_chunk: no object or blob "
                    + ObjectIds.toText(chunk));
        }
        return size;
    }

    private boolean tryPush(Stream s, long chunk, long size) {
        if (!fits(size)) {
            return false;
        }
        count(size);
        s.ready.add(new Chunk(chunk, size));
        waits.signal(new Waits.Stream(s.id));
        return true;
    }

    /** A writer stops waiting without a chunk (its deadline passed, it went away). */
    public void cancelWriterWait(long id) {
        Stream s = streams.get(id);
        if (s != null) {
            s.writerWaiting = false;
        }
    }

    /** What a pull found: the next chunk, or the end of the stream. */
    public record Pulled(long chunk) {
    }

    /**
     * Starts {@code pull_next_stream_chunk}: deletes the chunk read before, then returns the next
     * chunk, throws {@code StreamDrained} / {@code StreamFailed} at the end, or returns null when
     * nothing is queued yet (the caller waits and calls {@link #retryPull}).
     */
    public Pulled beginPull(long id, BlobLinks by) {
        Stream s = find(id, "failed to pull from stream");
        if (s.readerWaiting) {
            throw invalidState(s, "a reader is already waiting on this stream");
        }
        if (s.reader == null) {
            s.reader = by;
        }
        if (s.reading != null) {
            deleteChunk(s.reading, by);
            s.reading = null;
        }
        Pulled p = nextChunk(s);
        s.readerWaiting = p == null;
        return p;
    }

    /** A waiting pull looks again. */
    public Pulled retryPull(long id) {
        Stream s = streams.get(id);
        if (s == null) {
            throw new VineyardException(Status.STREAM_FAILED, "Stream source failed");
        }
        Pulled p = nextChunk(s);
        if (p != null) {
            s.readerWaiting = false;
        }
        return p;
    }

    /** A reader stops waiting (it went away, or the daemon stops). */
    public void cancelReaderWait(long id) {
        Stream s = streams.get(id);
        if (s != null) {
            s.readerWaiting = false;
        }
    }

    private Pulled nextChunk(Stream s) {
        Chunk c = s.ready.poll();
        if (c != null) {
            s.reading = c;
            return new Pulled(c.id);
        }
        if (s.drained) {
            s.readerWaiting = false;
            throw new VineyardException(Status.STREAM_DRAINED, "Stream drained: no more chunks");
        }
        if (s.failed) {
            s.readerWaiting = false;
            throw new VineyardException(Status.STREAM_FAILED, "Stream source failed");
        }
        return null;
    }

    private void deleteChunk(Chunk c, BlobLinks by) {
        if (ObjectIds.isBlob(c.id)) {
            blobs.delete(c.id, by, false);
        } else {
            meta.delete(new long[] {c.id}, false, true, by, false);
        }
        release(c);
    }

    private void count(long size) {
        bytes += size;
        peakBytes = Math.max(peakBytes, bytes);
    }

    private void release(Chunk c) {
        bytes -= c.bytes;
        if (c.bytes > 0) {
            waits.signal(Waits.StreamMemory.KEY);
        }
    }

    /** {@code stop_stream}: the writer is done (drained) or gave up (failed). */
    public void stop(long id, boolean failed, BlobLinks by) {
        Stream s = streams.get(id);
        if (s == null) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, "failed to stop stream: " + ObjectIds.toText(id));
        }
        if (s.stopped()) {
            throw invalidState(s, "Stream already stoped");
        }
        if (s.writerWaiting) {
            throw invalidState(s, "Still pending writer on stream");
        }
        BlobLinks writer = s.writer == null ? by : s.writer;
        if (failed) {
            dropWriting(s, writer); // an aborted chunk is never read
        } else {
            queueWriting(s, writer);
        }
        if (failed) {
            s.failed = true;
            s.failure = "stopped as failed by its writer";
        } else {
            s.drained = true;
        }
        waits.signal(new Waits.Stream(id));
    }

    /** {@code drop_stream}: fails the stream and deletes its queued chunks. */
    public void drop(long id, BlobLinks by) {
        Stream s = streams.get(id);
        if (s == null) {
            throw new VineyardException(Status.OBJECT_NOT_EXISTS, "failed to drop stream: " + ObjectIds.toText(id));
        }
        fail(s, "dropped", by);
        s.finished = true;
        forgetIfDone(s);
    }

    private void fail(Stream s, String why, BlobLinks by) {
        if (!s.failed) {
            s.failed = true;
            s.drained = false;
            s.failure = why;
        }
        while (!s.ready.isEmpty()) {
            deleteChunk(s.ready.poll(), by);
        }
        waits.signal(new Waits.Stream(s.id));
    }

    /**
     * The connection {@code who} ended (or closed its side): a writer that had not stopped fails the
     * stream after what it queued; a reader drops the stream (vineyard drops the streams a
     * disconnecting connection was reading) and its last chunk goes.
     */
    public void connectionGone(long id, BlobLinks who) {
        Stream s = streams.get(id);
        if (s == null) {
            return;
        }
        if (s.writer == who) {
            s.writer = null;
            dropWriting(s, who);
            if (!s.stopped()) {
                s.failed = true;
                s.failure = "its writer went away before it stopped the stream";
                waits.signal(new Waits.Stream(id));
            }
        }
        if (s.reader == who) {
            s.reader = null;
            if (s.reading != null) {
                deleteChunk(s.reading, who);
                s.reading = null;
            }
            fail(s, "its reader went away", who);
            s.finished = true;
        }
        forgetIfDone(s);
    }

    /** Erases a stream whose reader is done, that holds nothing and has nobody left on either side. */
    private void forgetIfDone(Stream s) {
        if (s.finished && s.stopped() && s.reader == null && s.writer == null && s.ready.isEmpty()
                && s.writing == null && s.reading == null) {
            streams.remove(s.id);
        }
    }
}
