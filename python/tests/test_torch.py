"""torch.from_numpy over a tensor got from vineyard shares its memory."""

import warnings

import pytest

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

from helpers import address_in_regions  # noqa: E402


def test_torch_from_numpy_shares_the_shared_memory(client, client2):
    value = np.arange(64, dtype=np.float32).reshape(8, 8)
    array = client2.get(client.put(value))
    with warnings.catch_warnings():
        # the mapping is read-only; torch warns that its tensor will not be writable
        warnings.simplefilter("ignore", UserWarning)
        tensor = torch.from_numpy(array)
    assert tensor.data_ptr() == array.ctypes.data
    assert address_in_regions(tensor.data_ptr(), array.nbytes, client2.mapped_regions(), writable=False)
    assert torch.equal(tensor, torch.arange(64, dtype=torch.float32).reshape(8, 8))
    assert float(tensor.sum()) == float(value.sum())
