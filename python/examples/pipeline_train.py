"""The Python half of bin/pipeline: reads vineyard's ``user_stats`` (DuckDB's aggregate of the Java ETL's
``events``) as pandas, makes torch tensors of it and trains a linear model ``ay = w * ax + b``; the events
were made with y = 2x + 1 + noise, so the model must find w = 2, b = 1.

Checks (exit 1 when one fails): the result's buffers, the pandas columns and the tensors all lie inside
this process's mapping of the pool (no copy on the way from DuckDB's put to torch); 1000 rows; the fit.
Usage: pipeline_train.py SOCKET
"""

import sys
import time
import warnings

import vineyard_java as vj

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("   FAILED: " + what)


def in_pool(client, address, nbytes):
    return any(start <= address and address + nbytes <= start + length
               for start, length, _writable in client.mapped_regions())


def main():
    import pandas  # noqa: F401 - imported before the clock starts, as a long-lived consumer has it
    import torch

    torch.set_num_threads(1)   # a 1000-row model: threads only contend for the cores
    client = vj.connect(sys.argv[1])
    t0 = time.perf_counter()
    table = client.get(name="user_stats")
    df = table.to_pandas(split_blocks=True)   # numeric columns without nulls: views, no copy
    t1 = time.perf_counter()
    check(len(df) == 1000, "user_stats has %d rows, not 1000" % len(df))
    for name in ("ax", "ay"):
        buf = table.column(name).chunk(0).buffers()[1]
        check(in_pool(client, buf.address, buf.size), "user_stats.%s lies in the pool" % name)
        column = df[name].to_numpy()
        check(in_pool(client, column.ctypes.data, column.nbytes), "pandas column %s is the pool's memory" % name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # read-only numpy memory: torch never writes it here
        x = torch.from_numpy(df["ax"].to_numpy()).unsqueeze(1)
        y = torch.from_numpy(df["ay"].to_numpy()).unsqueeze(1)
    check(in_pool(client, x.data_ptr(), x.numel() * 8) and in_pool(client, y.data_ptr(), y.numel() * 8),
          "the tensors are the pool's memory")
    print("3. python: vineyard 'user_stats' -> pandas -> torch tensors in %.2f ms, all views of the pool%s"
          % ((t1 - t0) * 1e3, "" if failures else "  ok"))

    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1, dtype=torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    t2 = time.perf_counter()
    for _ in range(600):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    t3 = time.perf_counter()
    w, b = model.weight.item(), model.bias.item()
    check(abs(w - 2) < 0.02 and abs(b - 1) < 0.02, "the model found w=%.4f b=%.4f, not 2 and 1" % (w, b))
    print("4. torch: linear model trained on the tensors in %.0f ms: w=%.4f b=%.4f loss=%.2e%s"
          % ((t3 - t2) * 1e3, w, b, loss.item(), "" if failures else "  ok"))
    del x, y, df, table
    client.drop_name("user_stats")
    client.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
