"""Personal data encryption: round trip, random nonces, keyed hashes, masks."""

import pytest

from service.core import crypto


def test_round_trip_and_random_nonce(ctx):
    first, second = crypto.encrypt("11010519491231002X"), crypto.encrypt("11010519491231002X")
    assert first != second
    assert "11010519491231002X" not in first
    assert crypto.decrypt(first) == crypto.decrypt(second) == "11010519491231002X"


def test_tampered_ciphertext_is_refused(ctx):
    token = crypto.encrypt("13800138000")
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(Exception):
        crypto.decrypt(tampered)


def test_hash_is_keyed_and_normalised(app):
    with app.app_context():
        plain = crypto.lookup_hash("11010519491231002x")
        assert plain == crypto.lookup_hash(" 11010519491231002X ")
    other = {**app.config, "DATA_KEY": "another-key-of-sufficient-length-123"}
    app.config.update(other)
    with app.app_context():
        assert crypto.lookup_hash("11010519491231002X") != plain


def test_masks():
    assert crypto.mask_id_number("110105194912310021") == "110105********0021"
    assert crypto.mask_mobile("13812345678") == "138****5678"
