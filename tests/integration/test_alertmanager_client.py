"""The Alertmanager client against a real Alertmanager: states, silences, auth and TLS, failures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from promsoc.alerts import board, silence_for
from promsoc.lab.alertmanager import AlertmanagerServer
from promsoc.lab.launcher import free_port
from promsoc.prom import AuthRefused, Unreachable
from promsoc.prom.alertmanager import AlertmanagerClient, Matcher, NewSilence, SilenceWriter
from promsoc.prom.errors import Rejected
from promsoc.prom.settings import TLS, BasicAuth, Secret, Source
from tests.integration.am_support import alertmanager, post_alerts, silence, states, wait_for
from tests.integration.client_support import PKI, bcrypt_hash, make_pki

PASSWORD = "am-correct-horse-battery"


@pytest.fixture
def am() -> Iterator[AlertmanagerServer]:
    with alertmanager() as server:
        yield server


async def test_posted_alerts_come_back_with_alertmanagers_states(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "Paging", "severity": "critical", "pod": "web-1"},
                {"alertname": "Hushed", "severity": "warning"},
                {"alertname": "Muted", "severity": "info", "promsoc_inhibit": "target"},
                {"alertname": "Cause", "severity": "high", "promsoc_inhibit": "source"},
                summary="posted by the test")  # fmt: skip
    sid = silence(am.url, {"alertname": "Hushed"}, by="oncall", comment="pentest window")
    expected = {"Paging": "active", "Hushed": "suppressed", "Muted": "suppressed", "Cause": "active"}
    wait_for(lambda: states(am.url) == expected, what=f"states {expected}")
    async with AlertmanagerClient(Source("am", am.url)) as client:
        alerts = await client.alerts()
        silences = await client.silences()
    by_name = {a.labels["alertname"]: a for a in alerts}
    assert by_name["Hushed"].silenced_by == (sid,)
    assert by_name["Muted"].inhibited_by and not by_name["Muted"].silenced_by
    assert by_name["Paging"].annotations == {"summary": "posted by the test"}
    assert abs(by_name["Paging"].starts_at - (time.time() - 600)) < 30
    shown = board(alerts, silences)
    rows = {r.name: r for r in shown.rows}
    assert {n: r.state for n, r in rows.items()} == {
        "Paging": "active", "Hushed": "silenced", "Muted": "inhibited", "Cause": "active"}  # fmt: skip
    note = rows["Hushed"].silences[0]
    assert (note.created_by, note.comment) == ("oncall", "pentest window")
    assert [g.name for g in shown.groups][:2] == ["Paging", "Cause"]  # worst severity first
    assert shown.active == 2


async def test_a_silence_made_by_the_client_suppresses_the_alert_then_expires(am: AlertmanagerServer) -> None:
    post_alerts(am.url, {"alertname": "Noisy", "severity": "high", "pod": "db-0"})
    wait_for(lambda: states(am.url) == {"Noisy": "active"}, what="Noisy active")
    async with AlertmanagerClient(Source("am", am.url)) as client:
        row = board(await client.alerts(), []).rows[0]
        new = silence_for(row, author="promsoc-test", comment="known noisy", duration=1800, now=time.time())
        assert not hasattr(client, "create_silence")  # the read client cannot write
        writer = SilenceWriter(client)
        sid = await writer.create_silence(new)
        wait_for(lambda: states(am.url) == {"Noisy": "suppressed"}, what="Noisy silenced")
        [made] = [s for s in await client.silences() if s.id == sid]
        assert made.created_by == "promsoc-test" and made.state == "active"
        assert {m.name: m.value for m in made.matchers} == {"alertname": "Noisy", "severity": "high", "pod": "db-0"}
        await writer.expire_silence(sid)
        wait_for(lambda: states(am.url) == {"Noisy": "active"}, what="Noisy active again")
        assert [s.state for s in await client.silences() if s.id == sid] == ["expired"]


async def test_alertmanager_refusing_a_silence_is_a_readable_rejection(am: AlertmanagerServer) -> None:
    now = time.time()
    backwards = NewSilence((Matcher("alertname", "X"),), now, now - 60, "t", "ends before it starts")
    async with AlertmanagerClient(Source("am", am.url)) as client:
        with pytest.raises(Rejected) as caught:
            await SilenceWriter(client).create_silence(backwards)
    assert str(caught.value).startswith("rejected: 127.0.0.1:")
    assert "\n" not in str(caught.value)


async def test_unreachable_alertmanager_is_a_typed_one_line_error() -> None:
    async with AlertmanagerClient(Source("am", f"http://127.0.0.1:{free_port()}"), retries=0) as client:
        with pytest.raises(Unreachable) as caught:
            await client.alerts()
    assert "connection refused" in str(caught.value)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("am-pki"))


async def test_tls_and_basic_auth_connect_exactly_like_a_source(pki: PKI, tmp_path: Path) -> None:
    web: dict[str, object] = {
        "tls_server_config": {"cert_file": str(pki.server_cert), "key_file": str(pki.server_key)},
        "basic_auth_users": {"alice": bcrypt_hash(PASSWORD)},
    }
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    with AlertmanagerServer(web_config=web, scheme="https") as server:
        good = Source("am", server.url, auth=BasicAuth("alice", password_file=password_file),
                      tls=TLS(ca_file=pki.ca))  # fmt: skip
        async with AlertmanagerClient(good) as client:
            assert await client.alerts() == []
            assert (await client.version()).startswith("0.")
        wrong = Source("am", server.url, auth=BasicAuth("alice", Secret("nope-nope")), tls=TLS(ca_file=pki.ca))
        async with AlertmanagerClient(wrong, retries=0) as client:
            with pytest.raises(AuthRefused) as refused:
                await client.alerts()
        assert "nope-nope" not in repr(refused.value)
        unverified = Source("am", server.url, auth=BasicAuth("alice", Secret(PASSWORD)))
        async with AlertmanagerClient(unverified, retries=0) as client:
            with pytest.raises(Unreachable) as untrusted:
                await client.alerts()
        assert "certificate" in str(untrusted.value).lower()
