"""Standard tokens and limits that fit a real deployment: JWTs with key rotation, service keys with their own
quota, client addresses behind trusted proxies, rate-limited sign-in, a cap on conversations per shopper."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient

from daogou.errors import AccessDenied, ConfigError
from daogou.serve.app import create_app
from daogou.serve.security import ClientAddress, TokenSigner, issue_legacy_token, key_id
from tests.test_serve_api import settings

SERVICE = "storefront-backend-key-0123456789"


def test_shopper_tokens_are_jwts_any_library_can_verify():
    secret = b"k" * 32
    token = TokenSigner(secret, ttl_s=60).issue("alice", now=1000)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": key_id(secret), "typ": "JWT"}
    claims = jwt.decode(token, secret, algorithms=["HS256"], issuer="daogou", options={"verify_exp": False})
    assert claims == {"sub": "alice", "iat": 1000, "exp": 1060, "iss": "daogou"}
    with pytest.raises(AccessDenied, match="invalid"):  # a token minted with the right kid but another key
        TokenSigner(secret, 60).verify(jwt.encode({"sub": "mallory", "exp": 2000, "iss": "daogou"}, b"x" * 32,
                                                  algorithm="HS256", headers={"kid": key_id(secret)}), now=1010)
    with pytest.raises(AccessDenied):  # "none" is never an algorithm
        TokenSigner(secret, 60).verify(jwt.encode({"sub": "mallory", "exp": 2000, "iss": "daogou"}, None,
                                                  algorithm="none", headers={"kid": key_id(secret)}), now=1010)


def test_earlier_v1_tokens_keep_working_until_they_expire():
    secret = b"k" * 32
    old = issue_legacy_token(secret, "alice", exp=2000)
    assert old.startswith("v1.") and TokenSigner(secret, 60).verify(old, now=1500) == "alice"
    with pytest.raises(AccessDenied, match="expired"):
        TokenSigner(secret, 60).verify(old, now=2500)
    with pytest.raises(AccessDenied, match="invalid"):
        TokenSigner(b"x" * 32, 60).verify(old, now=1500)


def test_the_secret_rotates_old_tokens_valid_until_the_old_secret_is_dropped():
    old_secret, new_secret = b"o" * 32, b"n" * 32
    old_token = TokenSigner(old_secret, 600).issue("alice", now=1000)
    rotated = TokenSigner([new_secret, old_secret], 600)  # DAOGOU_SECRET=new, DAOGOU_PREVIOUS_SECRETS=old
    assert rotated.verify(old_token, now=1100) == "alice"
    new_token = rotated.issue("bob", now=1100)
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(new_secret)
    dropped = TokenSigner(new_secret, 600)
    assert dropped.verify(new_token, now=1200) == "bob"
    with pytest.raises(AccessDenied, match="no longer accepts"):
        dropped.verify(old_token, now=1200)


def test_rotation_through_the_settings(served_home):
    first = TestClient(create_app(settings(served_home, secret="o" * 32)))
    token = first.post("/v1/auth/guest").json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    rotated = TestClient(create_app(settings(served_home, secret="n" * 32, previous_secrets="o" * 32)))
    assert rotated.get("/v1/recommend", headers=h).status_code == 200
    dropped = TestClient(create_app(settings(served_home, secret="n" * 32)))
    r = dropped.get("/v1/recommend", headers=h)
    assert r.status_code == 401 and "no longer accepts" in r.json()["detail"]


def test_a_service_key_has_its_own_quota_not_the_address_bucket(served_home):
    app = create_app(settings(served_home, rate_per_s=1, rate_burst=3, service_keys=f"storefront={SERVICE}",
                              service_rate_per_s=1, service_burst=40))
    with TestClient(app) as c:
        # one backend calling search for all its visitors: 30 queries in a row, none refused
        codes = [c.get("/v1/search", params={"q": "socks"}, headers={"X-Service-Key": SERVICE}).status_code
                 for _ in range(30)]
        assert codes == [200] * 30
        # the same address without the key is an ordinary caller: its burst is 3
        plain = [c.get("/v1/search", params={"q": "socks"}).status_code for _ in range(5)]
        assert plain[:3] == [200] * 3 and plain[-1] == 429
        wrong = c.get("/v1/search", params={"q": "socks"}, headers={"X-Service-Key": "x" * 20})
        assert wrong.status_code == 401 and "service key" in wrong.json()["detail"]
        # and the service's own quota is a limit too
        more = [c.get("/v1/search", params={"q": "socks"}, headers={"X-Service-Key": SERVICE}).status_code
                for _ in range(15)]
        assert 429 in more


def test_service_keys_are_checked_when_the_server_starts(served_home):
    with pytest.raises(ConfigError, match="name=key"):
        settings(served_home, service_keys="storefront:short").service_key_map()


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    address = ClientAddress(["10.0.0.0/8", "127.0.0.1"])
    assert address.of("127.0.0.1", "203.0.113.7") == "203.0.113.7"
    assert address.of("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.2.3") == "203.0.113.7"  # right-most untrusted
    assert address.of("198.51.100.9", "203.0.113.7") == "198.51.100.9"  # not a proxy of ours: the peer itself
    assert ClientAddress([]).of("127.0.0.1", "203.0.113.7") == "127.0.0.1"  # no proxies configured


def test_visitors_behind_a_trusted_proxy_get_their_own_buckets(served_home):
    app = create_app(settings(served_home, rate_per_s=1, rate_burst=2, trusted_proxies="127.0.0.1"))
    with TestClient(app, client=("127.0.0.1", 5000)) as proxy:
        for visitor in ("203.0.113.1", "203.0.113.2"):
            codes = [proxy.get("/v1/search", params={"q": "socks"}, headers={"X-Forwarded-For": visitor})
                     .status_code for _ in range(2)]
            assert codes == [200, 200]
        assert proxy.get("/v1/search", params={"q": "socks"},
                         headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    with TestClient(app, client=("198.51.100.9", 5000)) as direct:  # a forged header from an untrusted peer
        codes = [direct.get("/v1/search", params={"q": "socks"}, headers={"X-Forwarded-For": f"203.0.113.{i}"})
                 .status_code for i in range(3, 6)]
        assert codes[-1] == 429


def test_guest_tokens_and_demo_sign_in_are_limited_per_address(served_home):
    app = create_app(settings(served_home, auth_rate_per_s=0.01, auth_burst=3))
    with TestClient(app) as c:
        codes = [c.post("/v1/auth/guest").status_code for _ in range(3)]
        codes.append(c.post("/v1/auth/demo", json={"shopper_id": "U0002"}).status_code)
        assert codes == [200, 200, 200, 429]


def test_a_shopper_keeps_a_bounded_number_of_conversations(served_home):
    app = create_app(settings(served_home, conversations_per_shopper=2))
    with TestClient(app) as c:
        h = {"Authorization": "Bearer " + c.post("/v1/auth/guest").json()["token"]}
        ids = [c.post("/v1/chat", json={"message": m}, headers=h).json()["conversation_id"]
               for m in ("headphones", "socks", "backpack")]
        codes = [c.get(f"/v1/conversations/{i}", headers=h).status_code for i in ids]
        assert codes == [404, 200, 200]  # the oldest went, from memory and from the store
        store = app.state.daogou.store
        assert store.load_conversation(ids[0]) is None and store.load_conversation(ids[2]) is not None
