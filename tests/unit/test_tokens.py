"""HS256 as the app signs and verifies Docs' tokens: each secret is checked once, not per token."""

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from app.services.docs import tokens

SECRET = "unit-secret-0123456789-abcdefghijklmn"


def test_the_process_wide_hs256_is_the_prepared_one():
    assert isinstance(jwt.get_algorithm_by_name("HS256"), tokens._PreparedHS256)


def test_a_secret_is_checked_once_however_many_tokens_it_signs_and_verifies(monkeypatch):
    checked = []
    original = HMACAlgorithm.prepare_key

    def counting(self, key):
        checked.append(key)
        return original(self, key)

    monkeypatch.setattr(HMACAlgorithm, "prepare_key", counting)
    monkeypatch.setattr(jwt.get_algorithm_by_name("HS256"), "_prepared", {})
    for n in range(5):
        token = jwt.encode({"n": n}, SECRET, algorithm="HS256")
        assert jwt.decode(token, SECRET, algorithms=["HS256"]) == {"n": n}
    assert checked == [SECRET]


def test_its_tokens_are_plain_hs256():
    """A verifier with PyJWT's own HS256 accepts them, and refuses them under another secret."""
    token = jwt.encode({"status": 1}, SECRET, algorithm="HS256")
    stock = jwt.PyJWT()
    stock._jws = jwt.PyJWS(algorithms=["HS256"])  # a registry of its own: PyJWT's HMACAlgorithm
    assert not isinstance(stock._jws.get_algorithm_by_name("HS256"), tokens._PreparedHS256)
    assert stock.decode(token, SECRET, algorithms=["HS256"]) == {"status": 1}
    with pytest.raises(jwt.InvalidSignatureError):
        stock.decode(token, SECRET + "x", algorithms=["HS256"])


def test_a_secret_that_looks_like_a_public_key_is_refused_every_time():
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
    for _ in range(2):
        with pytest.raises(jwt.InvalidKeyError):
            jwt.encode({"a": 1}, pem, algorithm="HS256")
    assert pem not in jwt.get_algorithm_by_name("HS256")._prepared


def test_only_the_latest_few_secrets_are_kept(monkeypatch):
    algorithm = jwt.get_algorithm_by_name("HS256")
    monkeypatch.setattr(algorithm, "_prepared", {})
    for n in range(algorithm.KEPT * 3):
        jwt.encode({"n": n}, f"{SECRET}-{n}", algorithm="HS256")
    assert 0 < len(algorithm._prepared) <= algorithm.KEPT
