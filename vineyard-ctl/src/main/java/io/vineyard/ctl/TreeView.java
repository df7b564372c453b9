package io.vineyard.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A metadata tree drawn for people: the object's id, typename, size and names on the first line, then its
 * fields and members, members drawn the same way one level deeper; a blob member is one line.
 *
 * <pre>
 * o0000123400000001 vineyard::Tensor&lt;double&gt; 48 B name=t
 * ├── order_: "C"
 * ├── shape_: [2,3]
 * └── buffer_: o8000123400000002 vineyard::Blob 48 B
 * </pre>
 */
final class TreeView {
    private final PrintWriter out;
    private final Map<ObjectId, List<String>> names;

    TreeView(PrintWriter out, Map<ObjectId, List<String>> names) {
        this.out = out;
        this.names = names;
    }

    /** Draws {@code meta} and everything under it. */
    void print(ObjectMeta meta) {
        out.println(header(meta));
        children(meta, "");
    }

    private String header(ObjectMeta m) {
        StringBuilder b = new StringBuilder();
        ObjectId id = m.id();
        b.append(id == null ? "-" : id.toString()).append(' ').append(m.typename());
        long size = m.isBlob() ? LsCommand.blobSize(m) : m.nbytes();
        b.append(' ').append(Bytes.human(size));
        if (id != null) {
            for (String n : names.getOrDefault(id, List.of())) {
                b.append(" name=").append(n);
            }
        }
        return b.toString();
    }

    private void children(ObjectMeta m, String indent) {
        if (m.isBlob()) {
            return;
        }
        Map<String, ObjectMeta> members = m.members();
        List<String> keys = new ArrayList<>();
        for (String k : m.keys()) {
            if (!k.equals("id") && !k.equals("typename")) {
                keys.add(k);
            }
        }
        for (int i = 0; i < keys.size(); i++) {
            String k = keys.get(i);
            boolean last = i == keys.size() - 1;
            String branch = indent + (last ? "└── " : "├── ");
            ObjectMeta member = members.get(k);
            if (member != null) {
                out.println(branch + k + ": " + header(member));
                children(member, indent + (last ? "    " : "│   "));
            } else {
                JsonNode v = m.value(k);
                out.println(branch + k + ": " + (v.isTextual() ? v.textValue() : v.toString()));
            }
        }
    }
}
