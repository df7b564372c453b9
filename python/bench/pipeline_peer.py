"""The Python consumer of bin/bench-pipeline (io.vineyard.bench.PipelineBench): reads commands on stdin,
one per line, answers each with one line starting with ``ok``; times are ``time.monotonic_ns()``
(CLOCK_MONOTONIC, shared with the Java processes).

  connect SOCKET            the daemon to use
  warm DIR                  small rounds of both paths (imports, pyarrow kernels)
  get NAME                  vineyard: the table as a pyarrow RecordBatch over the pool, checksummed
  ipc-read PATH             an Arrow IPC file through pyarrow.memory_map (zero-copy), checksummed
  exit

A read answers ``ok T_GO T_LOADED T_DONE ROWS SUM_I64 SUM_F64 NON_NULL``: the wrapping sum of i64, the
sum of f64 and the count of non-null s from its validity bitmap (pyarrow.compute, as the baselines).
"""

import os
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

import vineyard_java as vj

WARM_ROWS = 200_000


def checksum(batch):
    s = batch.column(batch.schema.get_field_index("s"))
    i64 = pc.sum(batch.column(batch.schema.get_field_index("i64"))).as_py()
    i64 = (i64 + (1 << 63)) % (1 << 64) - (1 << 63)
    f64 = pc.sum(batch.column(batch.schema.get_field_index("f64"))).as_py()
    non_null = pc.sum(pc.is_valid(s)).as_py()
    return "%d %d %.8f %d" % (batch.num_rows, i64, f64, non_null)


def read(client, command, target):
    t0 = time.monotonic_ns()
    if command == "get":
        batch = client.get(name=target)
        loaded = time.monotonic_ns()
        text = checksum(batch)
        done = time.monotonic_ns()
        del batch
        client.flush_releases()   # the producer deletes the object next: its memory must come back now
    else:
        with pa.memory_map(target) as source:
            table = ipc.open_file(source).read_all()
            loaded = time.monotonic_ns()
            text = checksum(table.combine_chunks().to_batches()[0])
            done = time.monotonic_ns()
            del table
    return " %d %d %d %s" % (t0, loaded, done, text)


def warm(client, directory):
    table = pa.table({"i64": pa.array(range(WARM_ROWS), pa.int64()),
                      "f64": pa.array([i * 0.5 for i in range(WARM_ROWS)], pa.float64()),
                      "s": pa.array([None if i % 10 == 0 else "x%d" % i for i in range(WARM_ROWS)])})
    batch = table.to_batches()[0]
    path = os.path.join(directory, "warm-%d.arrow" % os.getpid())
    for _ in range(3):
        oid = client.put(batch, name="warm-py")
        read(client, "get", "warm-py")
        client.drop_name("warm-py")
        client.delete(oid)
        with pa.OSFile(path, "wb") as sink, ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        read(client, "ipc-read", path)
        os.remove(path)
    small = table.slice(0, 1000).to_batches()[0]
    for _ in range(300):
        oid = client.put(small, name="warm-py")
        read(client, "get", "warm-py")
        client.drop_name("warm-py")
        client.delete(oid)


def main():
    client = None
    for line in sys.stdin:
        c = line.split()
        if not c or c[0] == "exit":
            break
        if c[0] == "connect":
            client = vj.connect(c[1])
            reply = ""
        elif c[0] == "warm":
            warm(client, c[1])
            reply = ""
        elif c[0] in ("get", "ipc-read"):
            reply = read(client, c[0], c[1])
        else:
            raise SystemExit("unknown command: " + line)
        print("ok" + reply, flush=True)
    if client is not None:
        client.close()


if __name__ == "__main__":
    main()
