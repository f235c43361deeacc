"""Field-level protection of personal data (ID numbers, mobiles) with DATA_KEY.

Each sensitive value is stored three ways:
  <field>_enc     AES-256-GCM ciphertext (random nonce), readable only with DATA_KEY;
  <field>_hash    HMAC-SHA256 keyed hash of the normalised value, for uniqueness and lookup;
  <field>_masked  the masked form shown in responses.
Two sub-keys are derived from DATA_KEY so the hash key never doubles as the cipher key.
"""

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

_VERSION = "v1"


@functools.lru_cache(maxsize=8)
def _keys(data_key):
    root = hashlib.sha256(data_key.encode()).digest()
    cipher_key = hmac.new(root, b"lingjun-field-encryption", "sha256").digest()
    hash_key = hmac.new(root, b"lingjun-field-lookup-hash", "sha256").digest()
    return cipher_key, hash_key


def _current_keys():
    return _keys(current_app.config["DATA_KEY"])


def encrypt(value):
    nonce = os.urandom(12)
    ciphertext = AESGCM(_current_keys()[0]).encrypt(nonce, value.encode(), None)
    return f"{_VERSION}:" + base64.b64encode(nonce + ciphertext).decode()


def decrypt(token):
    version, _, payload = token.partition(":")
    if version != _VERSION:
        raise ValueError("unknown ciphertext version")
    raw = base64.b64decode(payload)
    return AESGCM(_current_keys()[0]).decrypt(raw[:12], raw[12:], None).decode()


def lookup_hash(value):
    return hmac.new(_current_keys()[1], value.strip().upper().encode(), "sha256").hexdigest()


def mask_id_number(value):
    """110105********1234"""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_mobile(value):
    """138****8000"""
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "*" * len(value)


def protect(field, value, mask):
    """The three stored forms of a sensitive value, as a dict to merge into a document."""
    if value is None:
        return {f"{field}_enc": None, f"{field}_hash": None, f"{field}_masked": None}
    return {f"{field}_enc": encrypt(value), f"{field}_hash": lookup_hash(value), f"{field}_masked": mask(value)}
