"""SM2 signatures (yimen.common.sm2): the round trip, the published test vector, refusal of
anything malformed (False from verify, InvalidKey from the key functions, never another
exception), and the three flaws of gmssl the module guards against, each shown on gmssl
itself so that the guard's reason stays visible."""

import random

import pytest
from gmssl import func
from gmssl.sm2 import CryptSM2

from yimen.common import sm2

N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
A = P - 3
B = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)
G = (
    "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
    "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0"
)

# GB/T 32918.2-2016 / GM/T 0003.5 example: the key, and the signature of "message digest"
# with the default user id. The key's x begins with "0": exactly what gmssl mangles.
KAT_PRIVATE = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
KAT_PUBLIC = (
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
KAT_MESSAGE = b"message digest"
KAT_SIGNATURE = (
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)

MESSAGE = "电子证照 1.2.156.3005.2".encode()


@pytest.fixture(scope="module")
def pair():
    return sm2.generate_keypair()


@pytest.fixture(scope="module")
def signature(pair):
    return sm2.sign(pair.private_key, pair.public_key, MESSAGE)


def flip(hex_text: str, index: int) -> str:
    """The text with one hexadecimal digit changed."""
    digit = "1" if hex_text[index] != "1" else "2"
    return hex_text[:index] + digit + hex_text[index + 1 :]


def hex64(value: int) -> str:
    return f"{value:064x}"


# --- the round trip ----------------------------------------------------------------------------


def test_a_signature_verifies_with_the_signers_public_key(pair, signature):
    assert len(signature) == 128 and int(signature, 16)
    assert sm2.verify(pair.public_key, MESSAGE, signature) is True


def test_the_published_test_vector_holds():
    # Given the standard's private key, when its public key is derived, then it is the
    # standard's; and the standard's signature of "message digest" verifies here.
    assert sm2.public_key_of(KAT_PRIVATE) == KAT_PUBLIC
    assert sm2.verify(KAT_PUBLIC, KAT_MESSAGE, KAT_SIGNATURE) is True
    assert sm2.verify(KAT_PUBLIC, b"message digesT", KAT_SIGNATURE) is False


def test_a_signature_of_ours_verifies_for_the_published_key():
    signature = sm2.sign(KAT_PRIVATE, KAT_PUBLIC, KAT_MESSAGE)
    assert sm2.verify(KAT_PUBLIC, KAT_MESSAGE, signature) is True


def test_a_changed_message_fails(pair, signature):
    assert sm2.verify(pair.public_key, MESSAGE + b" ", signature) is False
    assert sm2.verify(pair.public_key, MESSAGE.replace(b"3005", b"3006"), signature) is False
    assert sm2.verify(pair.public_key, b"", signature) is False


@pytest.mark.parametrize("index", [0, 63, 64, 127], ids=["r-first", "r-last", "s-first", "s-last"])
def test_a_changed_signature_fails(pair, signature, index):
    assert sm2.verify(pair.public_key, MESSAGE, flip(signature, index)) is False


def test_another_key_does_not_verify(signature):
    other = sm2.generate_keypair()
    assert sm2.verify(other.public_key, MESSAGE, signature) is False


def test_two_signatures_of_one_message_differ_and_both_verify(pair):
    # The nonce is drawn anew for every signature.
    first = sm2.sign(pair.private_key, pair.public_key, MESSAGE)
    second = sm2.sign(pair.private_key, pair.public_key, MESSAGE)
    assert first != second
    assert first[:64] != second[:64]  # r depends on the nonce only
    assert sm2.verify(pair.public_key, MESSAGE, first)
    assert sm2.verify(pair.public_key, MESSAGE, second)


def test_upper_case_hex_is_read_as_the_same_values(pair, signature):
    assert sm2.verify(pair.public_key.upper(), MESSAGE, signature.upper()) is True


# --- malformed input: False, never an exception -------------------------------------------------


def _malformed_signatures(good: str) -> dict[str, object]:
    r, s = good[:64], good[64:]
    return {
        "empty": "",
        "none": None,
        "short": good[:-1],
        "long": good + "0",
        "not hex": "g" + good[1:],
        "spaces inside": good[:64] + " " + good[65:],
        "r = 0": hex64(0) + s,
        "s = 0": r + hex64(0),
        "r = n": hex64(N) + s,
        "s = n": r + hex64(N),
        "r = n + 1": hex64(N + 1) + s,
        "s = 2^256 - 1": r + "f" * 64,
        "r + s = n": hex64(1) + hex64(N - 1),
    }


@pytest.mark.parametrize("case", list(_malformed_signatures("0" * 128)))
def test_a_malformed_signature_is_false(pair, signature, case):
    malformed = _malformed_signatures(signature)[case]
    assert sm2.verify(pair.public_key, MESSAGE, malformed) is False


def _point_with_x(x: int) -> str | None:
    """The key x‖y of the curve point with this x, if there is one (p ≡ 3 mod 4)."""
    rhs = (x**3 + A * x + B) % P
    y = pow(rhs, (P + 1) // 4, P)
    return f"{x:064x}{y:064x}" if y * y % P == rhs else None


def _unreduced_key() -> str:
    """A curve point written with x + p instead of x: congruent to a point, not a key."""
    x = next(x for x in range(1, 100) if _point_with_x(x))
    key = _point_with_x(x)
    return f"{x + P:064x}" + key[64:]


def _malformed_public_keys(good: str) -> dict[str, object]:
    y = int(good[64:], 16)
    return {
        "empty": "",
        "none": None,
        "short": good[:-1],
        "long": good + "0",
        "not hex": "x" + good[1:],
        "wrong prefix": "05" + good,
        "prefix only": "04",
        "off the curve": good[:64] + f"{(y + 1) % P:064x}",
        "x = p + x": _unreduced_key(),
        "zero point": "0" * 128,
    }


@pytest.mark.parametrize("case", list(_malformed_public_keys("0" * 128)))
def test_a_malformed_public_key_is_false_in_verify_and_refused_when_normalised(
    pair, signature, case
):
    malformed = _malformed_public_keys(pair.public_key)[case]
    assert sm2.verify(malformed, MESSAGE, signature) is False
    with pytest.raises(sm2.InvalidKey):
        sm2.normalise_public_key(malformed)


def test_the_unreduced_key_is_congruent_to_a_real_point():
    # The "x = p + x" case above is a real point in disguise, so only the range check
    # refuses it.
    key = _unreduced_key()
    x, y = int(key[:64], 16) - P, int(key[64:], 16)
    assert sm2.normalise_public_key(f"{x:064x}{y:064x}")


def test_signing_with_a_malformed_public_key_is_refused(pair):
    with pytest.raises(sm2.InvalidKey):
        sm2.sign(pair.private_key, pair.public_key[:-2], MESSAGE)


# --- public keys: with or without the 04 prefix -------------------------------------------------


def test_the_public_key_is_accepted_with_or_without_the_04_prefix(pair, signature):
    assert sm2.normalise_public_key(pair.public_key) == pair.public_key
    assert sm2.normalise_public_key("04" + pair.public_key) == pair.public_key
    assert sm2.normalise_public_key(" 04" + pair.public_key.upper() + " ") == pair.public_key
    assert sm2.verify("04" + pair.public_key, MESSAGE, signature) is True
    prefixed = sm2.sign(pair.private_key, "04" + pair.public_key, MESSAGE)
    assert sm2.verify(pair.public_key, MESSAGE, prefixed) is True


def _key_beginning_with_0_or_4() -> sm2.KeyPair:
    """A new key pair whose x begins with "0" or "4" (one in eight does)."""
    for _ in range(500):
        pair = sm2.generate_keypair()
        if pair.public_key[0] in "04":
            return pair
    raise AssertionError("no key beginning with 0 or 4 in 500 tries")  # p ≈ 1e-29


def test_a_key_beginning_with_0_or_4_signs_and_verifies_given_with_the_04_prefix():
    # Given a key pair whose public x begins with "0" or "4",
    pair = _key_beginning_with_0_or_4()
    prefixed = "04" + pair.public_key
    # when it is given with the 04 prefix, then the module reads the same key,
    assert sm2.normalise_public_key(prefixed) == pair.public_key
    # signs with it, and verifies with it in either form;
    signature = sm2.sign(pair.private_key, prefixed, MESSAGE)
    assert sm2.verify(pair.public_key, MESSAGE, signature) is True
    assert sm2.verify(prefixed, MESSAGE, signature) is True
    # and gmssl, given the same, would hold another "key": the reason for the guard.
    mangled = CryptSM2(private_key=pair.private_key, public_key=prefixed).public_key
    assert mangled != pair.public_key
    assert len(mangled) < 128


def test_gmssl_mangles_the_published_key_given_with_its_prefix():
    # The deterministic case: the standard's own public key begins with "09".
    mangled = CryptSM2(private_key=KAT_PRIVATE, public_key="04" + KAT_PUBLIC).public_key
    assert mangled == KAT_PUBLIC[1:]
    signature = sm2.sign(KAT_PRIVATE, "04" + KAT_PUBLIC, KAT_MESSAGE)
    assert sm2.verify("04" + KAT_PUBLIC, KAT_MESSAGE, signature) is True


# --- the nonce ----------------------------------------------------------------------------------


@pytest.fixture
def restored_random():
    state = random.getstate()
    yield
    random.setstate(state)


def test_the_nonce_does_not_come_from_random(pair, restored_random):
    # Given `random` seeded the same way before each signature, the signatures still differ.
    random.seed(20261123)
    first = sm2.sign(pair.private_key, pair.public_key, MESSAGE)
    random.seed(20261123)
    second = sm2.sign(pair.private_key, pair.public_key, MESSAGE)
    assert first[:64] != second[:64]


def test_gmssl_alone_takes_the_nonce_from_random_which_leaks_the_private_key(pair, restored_random):
    # Why the nonce is drawn here: whoever knows the state of `random` knows k, and
    # d = (k - s) / (s + r) mod n.
    engine = CryptSM2(private_key=pair.private_key, public_key="")
    engine.public_key = pair.public_key
    random.seed(7)
    signature = engine.sign_with_sm3(MESSAGE)
    random.seed(7)
    k = int(func.random_hex(64), 16)
    r, s = int(signature[:64], 16), int(signature[64:], 16)
    recovered = (k - s) * pow(s + r, -1, N) % N
    assert hex64(recovered) == pair.private_key


# --- private keys -------------------------------------------------------------------------------


def test_public_key_of_agrees_with_generate_keypair(pair):
    assert sm2.public_key_of(pair.private_key) == pair.public_key
    assert sm2.public_key_of(pair.private_key.upper()) == pair.public_key
    assert len(pair.private_key) == 64 and len(pair.public_key) == 128
    assert sm2.normalise_public_key(pair.public_key) == pair.public_key  # on the curve


def test_the_smallest_private_key_gives_the_generator():
    assert sm2.public_key_of(hex64(1)) == G
    assert sm2.public_key_of(hex64(N - 2))  # the largest allowed


@pytest.mark.parametrize(
    "private_key",
    [hex64(0), hex64(N - 1), hex64(N), "f" * 64, "", None, "1" * 63, "1" * 65, "g" * 64],
    ids=["0", "n-1", "n", "2^256-1", "empty", "none", "short", "long", "not hex"],
)
def test_a_private_key_out_of_range_is_refused(private_key, pair):
    with pytest.raises(sm2.InvalidKey):
        sm2.public_key_of(private_key)
    with pytest.raises(sm2.InvalidKey):
        sm2.sign(private_key, pair.public_key, MESSAGE)


def test_generated_keys_are_distinct_and_in_range():
    pairs = [sm2.generate_keypair() for _ in range(5)]
    assert len({p.private_key for p in pairs}) == 5
    assert all(1 <= int(p.private_key, 16) <= N - 2 for p in pairs)
