"""vineyard::Hashmap read as a dict (the Java half, which writes them, is in test_cross_java.py)."""

import pytest

pytest.importorskip("numpy")

import vineyard_java as vj  # noqa: E402


def test_a_hashmap_of_string_views_is_refused_with_a_typed_error(client, client2):
    typename = ("vineyard::Hashmap<std::basic_string_view<char,std::char_traits<char>>,uint64,"
                "wy::hash<std::basic_string_view<char,std::char_traits<char>>>,"
                "std::equal_to<std::basic_string_view<char,std::char_traits<char>>>>")
    meta = vj.ObjectMeta(typename, num_slots_minus_one_=0, max_lookups_=4, num_elements_=0)
    oid = client.create_metadata(meta).id
    with pytest.raises(vj.VineyardTypeError, match="only integer and float keys"):
        client2.get(oid)


def test_an_empty_hashmap_reads_as_an_empty_dict(client, client2):
    meta = vj.ObjectMeta("vineyard::Hashmap<int64,uint64,wy::hash<int64>,std::equal_to<int64>>",
                         num_slots_minus_one_=0, max_lookups_=0, num_elements_=0)
    entries = vj.ObjectMeta("vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<int64,uint64>>>", size_=0)
    entries.add_member("buffer_", vj.EMPTY_BLOB_ID)
    meta.add_member("entries_", entries)
    assert client2.get(client.create_metadata(meta).id) == {}
