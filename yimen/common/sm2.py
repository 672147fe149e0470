"""SM2 signatures (GB/T 32918, with SM3 and the default user id 1234567812345678) over the
pure-Python `gmssl` package, used only through this module, which guards against its flaws:

- its CryptSM2 constructor strips *every* leading "0" or "4" of a public key given with the
  04 prefix (`str.lstrip("04")`), not the prefix alone, so a key whose x coordinate begins
  with either digit would silently become another key: the key is set after construction;
- it draws the signing nonce k from `random` (Mersenne Twister, predictable: k leaks the
  private key): k comes from `secrets` here;
- its verify accepts r and s out of [1, n-1] and keys off the curve: both are refused here.

Keys are hex: the private key 64 digits, the public key 128 (x‖y, no 04 prefix)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gmssl.sm2 import CryptSM2, default_ecc_table

from .audit import sm3_hex

_N = int(default_ecc_table["n"], 16)
_P = int(default_ecc_table["p"], 16)
_A = int(default_ecc_table["a"], 16)
_B = int(default_ecc_table["b"], 16)
_G = default_ecc_table["g"]
_HEX = frozenset("0123456789abcdef")


class InvalidKey(ValueError):
    """A key that is not a valid SM2 key."""


@dataclass(frozen=True)
class KeyPair:
    private_key: str
    public_key: str


def _hex(value: str, digits: int) -> str | None:
    value = (value or "").strip().lower()
    return value if len(value) == digits and set(value) <= _HEX else None


def public_key_of(private_key: str) -> str:
    """The public key d·G of a private key d."""
    d = _private_int(private_key)
    return _engine(f"{d:064x}", "")._kg(d, _G)  # gmssl's scalar multiplication


def generate_keypair() -> KeyPair:
    """A new key pair, d uniform in [1, n-2] (GB/T 32918.1 6.1)."""
    d = secrets.randbelow(_N - 2) + 1
    private_key = f"{d:064x}"
    return KeyPair(private_key, public_key_of(private_key))


def normalise_public_key(public_key: str) -> str:
    """The 128-digit x‖y form of a public key given with or without the 04 prefix; a key
    off the curve is refused."""
    value = (public_key or "").strip().lower()
    if len(value) == 130 and value.startswith("04"):
        value = value[2:]  # the prefix only: never lstrip, which eats the key's own digits
    key = _hex(value, 128)
    if key is None:
        raise InvalidKey("an SM2 public key is 128 hexadecimal digits (x‖y)")
    x, y = int(key[:64], 16), int(key[64:], 16)
    if not (x < _P and y < _P and (y * y - (x * x * x + _A * x + _B)) % _P == 0):
        raise InvalidKey("the public key is not a point of the SM2 curve")
    return key


def fingerprint(public_key: str) -> str:
    """The SM3 digest of a public key (04‖x‖y), in groups of four hex digits: what a
    verifier compares with the issuer's published key ("" for what is not a key)."""
    try:
        point = bytes.fromhex("04" + public_key)
    except ValueError:
        return ""
    digest = sm3_hex(point).upper()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def sign(private_key: str, public_key: str, message: bytes) -> str:
    """The signature r‖s (128 hex digits) of `message` with SM3 and the default user id."""
    _private_int(private_key)
    engine = _engine(private_key, normalise_public_key(public_key))
    while True:  # gmssl answers None for the rare k that gives r = 0, r + k = n or s = 0
        nonce = f"{secrets.randbelow(_N - 1) + 1:064x}"
        signature = engine.sign_with_sm3(message, nonce)
        if signature:
            return signature


def verify(public_key: str, message: bytes, signature: str) -> bool:
    """Whether `signature` is a valid signature of `message` by the holder of `public_key`
    (False for anything malformed, never an exception)."""
    sig = _hex(signature, 128)
    if sig is None or not isinstance(message, bytes):
        return False
    r, s = int(sig[:64], 16), int(sig[64:], 16)
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    try:
        engine = _engine("", normalise_public_key(public_key))
        return bool(engine.verify_with_sm3(sig, message))
    except (InvalidKey, ValueError, TypeError):
        return False


def _private_int(private_key: str) -> int:
    key = _hex(private_key, 64)
    d = int(key, 16) if key else 0
    if not 1 <= d <= _N - 2:
        raise InvalidKey("an SM2 private key is 64 hexadecimal digits, from 1 to n-2")
    return d


def _engine(private_key: str, public_key: str) -> CryptSM2:
    engine = CryptSM2(private_key=private_key, public_key="")
    engine.public_key = public_key  # set after construction: see the module's docstring
    return engine
