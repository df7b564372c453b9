"""vineyard_java.io.read_bytes and parse_bytes: a file into a ByteStream, CSV bytes parsed into a
RecordBatchStream while they arrive. Writer, parser and consumer each have a client of their own, as
three processes would."""

import threading

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.csv  # noqa: E402

import vineyard_java as vj  # noqa: E402
from vineyard_java import io as vio  # noqa: E402
from vineyard_java.errors import VineyardError  # noqa: E402
from vineyard_java.stream import ByteStream, RecordBatchStream  # noqa: E402

TEXT = "id,score,name\n" + "".join("%d,%s,n%d\n" % (i, "" if i % 7 == 0 else i * 0.5, i) for i in range(2000))


def test_read_bytes_puts_a_file_into_a_byte_stream_chunk_by_chunk(client, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text(TEXT)
    sid = ByteStream.create(client, {"path": str(f)})
    vio.read_bytes(client, str(f), sid, chunk_bytes=4096)
    with ByteStream.open_reader(client, sid) as r:
        chunks = [bytes(c) for c in r]
    assert b"".join(chunks) == TEXT.encode()
    assert len(chunks) == -(-len(TEXT) // 4096)


def test_parse_bytes_gives_the_first_batch_before_the_bytes_end(vineyard_socket):
    data = TEXT.encode()
    half = len(data) // 2
    with vj.connect(vineyard_socket) as writer_client, vj.connect(vineyard_socket) as parser_client, \
            vj.connect(vineyard_socket) as client:
        bytes_id = ByteStream.create(client)
        batches_id = RecordBatchStream.create(client)
        first_batch = threading.Event()
        released = []
        errors = []

        def write():
            # the first half in 1 KiB chunks, then nothing more until the consumer has a batch
            with ByteStream.open_writer(writer_client, bytes_id) as w:
                for off in range(0, half, 1024):
                    w.write(data[off:min(off + 1024, half)])
                released.append(first_batch.wait(30))
                w.write(data[half:])
                w.finish()

        def parse():
            try:
                vio.parse_bytes(parser_client, bytes_id, batches_id, block_size=2048)
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)

        threads = [threading.Thread(target=write), threading.Thread(target=parse)]
        for t in threads:
            t.start()
        got = []
        with RecordBatchStream.open_reader(client, batches_id) as r:
            for batch in r:
                got.append(batch)
                first_batch.set()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert released == [True], "the consumer had a batch while the writer held back the second half"
        assert len(got) > 1
        table = pa.Table.from_batches(got)
        assert table.equals(pa.csv.read_csv(pa.BufferReader(data)))


def _streams(client, data):
    """A finished ByteStream holding ``data`` and an empty RecordBatchStream."""
    bytes_id = ByteStream.create(client)
    with ByteStream.open_writer(client, bytes_id) as w:
        w.write(data)
        w.finish()
    return bytes_id, RecordBatchStream.create(client)


def test_a_bad_row_fails_the_batch_stream(client, vineyard_socket):
    bytes_id, batches_id = _streams(client, b"a,b\n1,2\n3\n")
    with vj.connect(vineyard_socket) as parser_client:
        with pytest.raises(vio.Malformed) as e:
            vio.parse_bytes(parser_client, bytes_id, batches_id)
    assert str(e.value).startswith("stream %s" % bytes_id)
    with RecordBatchStream.open_reader(client, batches_id) as r:
        with pytest.raises(VineyardError):
            list(r)


def test_column_types_apply_to_a_headerless_byte_stream(client, vineyard_socket):
    bytes_id, batches_id = _streams(client, b"1,x\n2,y\n")
    with vj.connect(vineyard_socket) as parser_client:
        vio.parse_bytes(parser_client, bytes_id, batches_id, header_row=False, column_types="double,")
    with RecordBatchStream.open_reader(client, batches_id) as r:
        table = pa.Table.from_batches(list(r))
    assert table.column_names == ["f0", "f1"]
    assert table.column("f0").type == pa.float64() and table.column("f0").to_pylist() == [1.0, 2.0]
