package io.vineyard.client.stream;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.DataFrame;

import java.util.Map;

/** vineyard's {@code vineyard::DataframeStream}: a stream whose chunks are {@link DataFrame}s. */
public final class DataframeStream {
    private DataframeStream() {
    }

    public static ObjectId create(IpcClient client, Map<String, String> params) {
        return Streams.create(client, Streams.DATAFRAME_STREAM, params);
    }

    /** A writer: {@code write(dataFrame)} puts each DataFrame and queues it. */
    public static ObjectStreamWriter openWriter(IpcClient client, ObjectId stream) {
        return ObjectStreamWriter.open(client, stream);
    }

    /** A reader: {@code next()} gives each DataFrame (close it when done), null at the end. */
    public static ObjectStreamReader<DataFrame> openReader(IpcClient client, ObjectId stream) {
        return ObjectStreamReader.open(client, stream, DataFrame.class);
    }
}
