"""Auth and TLS against real servers: Prometheus with --web.config.file, and a checking proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promsoc.lab.launcher import PrometheusServer
from promsoc.prom import AuthRefused, PromClient, PromError, Unreachable
from promsoc.prom.settings import TLS, BasicAuth, BearerAuth, Secret, Source
from tests.integration.client_support import (
    PKI,
    ProxyState,
    bcrypt_hash,
    make_pki,
    proxy,
    self_scraping_prometheus,
)

PASSWORD = "correct-horse-battery-staple"
TOKEN = "tok-3f9a1c7e5b2d4a6c"
TENANT = "team-blue"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_basic(pki: PKI) -> Iterator[PrometheusServer]:
    """Prometheus serving TLS with basic auth (user alice)."""
    web: dict[str, object] = {
        "tls_server_config": {"cert_file": str(pki.server_cert), "key_file": str(pki.server_key)},
        "basic_auth_users": {"alice": bcrypt_hash(PASSWORD)},
    }
    with PrometheusServer(web_config=web, scheme="https") as server:
        yield server


@pytest.fixture(scope="module")
def mtls(pki: PKI) -> Iterator[PrometheusServer]:
    """Prometheus that requires a client certificate signed by the test CA."""
    web: dict[str, object] = {
        "tls_server_config": {
            "cert_file": str(pki.server_cert),
            "key_file": str(pki.server_key),
            "client_auth_type": "RequireAndVerifyClientCert",
            "client_ca_file": str(pki.ca),
        }
    }
    with PrometheusServer(web_config=web, scheme="https") as server:
        yield server


@pytest.fixture(scope="module")
def plain() -> Iterator[PrometheusServer]:
    yield self_scraping_prometheus()


async def two(source: Source) -> float:
    async with PromClient(source, retries=0) as client:
        result = await client.query("1 + 1")
        return result.samples[0].value


async def refused(source: Source) -> PromError:
    async with PromClient(source, retries=0) as client:
        with pytest.raises(PromError) as caught:
            await client.query("1 + 1")
        return caught.value


def assert_clean(error: PromError, *secrets: str) -> None:
    for text in (str(error), repr(error), error.detail):
        for secret in secrets:
            assert secret not in text
    assert "\n" not in str(error)


async def test_tls_basic_auth_right_password(tls_basic: PrometheusServer, pki: PKI) -> None:
    source = Source(
        "tls", tls_basic.url, BasicAuth("alice", Secret(PASSWORD)), tls=TLS(ca_file=pki.ca)
    )
    assert await two(source) == 2.0


async def test_tls_basic_auth_password_file(
    tls_basic: PrometheusServer, pki: PKI, tmp_path: Path
) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text(PASSWORD + "\n")
    auth = BasicAuth("alice", password_file=secret_file)
    assert await two(Source("tls", tls_basic.url, auth, tls=TLS(ca_file=pki.ca))) == 2.0


async def test_tls_basic_auth_wrong_password_is_auth_refused(
    tls_basic: PrometheusServer, pki: PKI
) -> None:
    wrong = "not-the-password-123"
    source = Source(
        "tls", tls_basic.url, BasicAuth("alice", Secret(wrong)), tls=TLS(ca_file=pki.ca)
    )
    error = await refused(source)
    assert isinstance(error, AuthRefused)
    assert error.kind == "auth_refused" and error.status == 401
    assert_clean(error, wrong)


async def test_tls_without_credentials_is_auth_refused(
    tls_basic: PrometheusServer, pki: PKI
) -> None:
    error = await refused(Source("tls", tls_basic.url, tls=TLS(ca_file=pki.ca)))
    assert isinstance(error, AuthRefused)


async def test_tls_unknown_ca_is_unreachable_with_tls_reason(tls_basic: PrometheusServer) -> None:
    error = await refused(Source("tls", tls_basic.url, BasicAuth("alice", Secret(PASSWORD))))
    assert isinstance(error, Unreachable)
    assert "TLS" in str(error) and "certificate verify failed" in str(error)
    assert_clean(error, PASSWORD)


async def test_tls_insecure_skip_verify_connects(tls_basic: PrometheusServer) -> None:
    tls = TLS(insecure_skip_verify=True)
    assert (
        await two(Source("tls", tls_basic.url, BasicAuth("alice", Secret(PASSWORD)), tls=tls))
        == 2.0
    )


async def test_mtls_with_client_certificate(mtls: PrometheusServer, pki: PKI) -> None:
    tls = TLS(ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)
    assert await two(Source("mtls", mtls.url, tls=tls)) == 2.0


async def test_mtls_without_client_certificate_is_auth_refused(
    mtls: PrometheusServer, pki: PKI
) -> None:
    error = await refused(Source("mtls", mtls.url, tls=TLS(ca_file=pki.ca)))
    assert isinstance(error, AuthRefused), repr(error)
    assert "client certificate" in str(error)


async def test_mtls_with_rogue_certificate_is_auth_refused(
    mtls: PrometheusServer, pki: PKI
) -> None:
    tls = TLS(ca_file=pki.ca, cert_file=pki.rogue_cert, key_file=pki.rogue_key)
    error = await refused(Source("mtls", mtls.url, tls=tls))
    assert isinstance(error, AuthRefused), repr(error)


async def test_bearer_token_and_tenant_through_proxy(plain: PrometheusServer) -> None:
    state = ProxyState(plain.url, token=TOKEN, tenant=TENANT)
    with proxy(state) as url:
        right = Source("mimir", url, BearerAuth(Secret(TOKEN)), headers={"X-Scope-OrgID": TENANT})
        assert await two(right) == 2.0
        wrong_token = Source(
            "mimir", url, BearerAuth(Secret("nope-nope-nope")), headers={"X-Scope-OrgID": TENANT}
        )
        error = await refused(wrong_token)
        assert isinstance(error, AuthRefused) and error.status == 401
        assert_clean(error, "nope-nope-nope", TOKEN)
        wrong_tenant = Source(
            "mimir", url, BearerAuth(Secret(TOKEN)), headers={"X-Scope-OrgID": "red"}
        )
        error = await refused(wrong_tenant)
        assert isinstance(error, AuthRefused) and error.status == 403
        assert_clean(error, TOKEN)


async def test_bearer_token_file_is_reread_after_rotation(
    plain: PrometheusServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("old-token-0000\n")
    state = ProxyState(plain.url, token="old-token-0000")
    with proxy(state) as url:
        async with PromClient(
            Source("k8s", url, BearerAuth(token_file=token_file)), retries=0
        ) as client:
            assert (await client.query("1 + 1")).samples[0].value == 2.0
            state.token = "new-token-1111"
            with pytest.raises(AuthRefused) as caught:
                await client.query("1 + 1")
            assert "old-token-0000" not in str(caught.value)
            token_file.write_text("new-token-1111\n")
            assert (await client.query("1 + 1")).samples[0].value == 2.0
