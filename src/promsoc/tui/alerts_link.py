"""The console's Alertmanagers: one read client per distinct Alertmanager, and a silencer (the
only write path) only for an Alertmanager configured with `allow_silence: true`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from promsoc.alerts import (
    AlertRow,
    AlertsBoard,
    PastClient,
    SourceRule,
    board,
    board_at,
    matchers_text,
    of_source,
    silence_for,
)
from promsoc.config import AlertmanagerSettings, Settings
from promsoc.prom.alertmanager import AlertmanagerClient, Silence, SilenceWriter
from promsoc.tui.backend import AlertmanagerInfo

log = logging.getLogger("promsoc.alerts")


class LinkSilencer:
    """Creates and expires silences on one Alertmanager, logging every write (a JSON line each)."""

    def __init__(self, writer: SilenceWriter, author: str, log_path: Path | None, clock: Callable[[], float]) -> None:
        self._writer = writer
        self.author = author
        self.url = writer.url
        self._log_path = log_path
        self._clock = clock

    async def silence(self, row: AlertRow, *, comment: str, duration: float, names: Sequence[str]) -> str:
        """Silence `row` on the chosen label `names` for `duration` seconds; the new silence's id."""
        new = silence_for(row, author=self.author, comment=comment, duration=duration, now=self._clock(), names=names)
        silence_id = await self._writer.create_silence(new)
        self._audit("create", silence_id, matchers_text(new.matchers), comment=new.comment, until=new.ends_at)
        return silence_id

    async def expire(self, silence: Silence) -> None:
        await self._writer.expire_silence(silence.id)
        self._audit("expire", silence.id, matchers_text(silence.matchers), comment=silence.comment,
                    until=self._clock())  # fmt: skip

    def _audit(self, action: str, silence_id: str, matchers: str, *, comment: str, until: float) -> None:
        entry = {
            "at": round(self._clock(), 3), "action": action, "alertmanager": self.url, "id": silence_id,
            "matchers": matchers, "author": self.author, "comment": comment, "until": round(until, 3),
        }  # fmt: skip
        log.info("silence %s: %s %s by %s until %s", action, silence_id, matchers, self.author, until)
        if self._log_path is None:
            return
        try:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            with self._log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=True) + "\n")
        except OSError as exc:  # the write happened; say that its record did not
            log.warning("cannot append to %s: %s", self._log_path, exc)


class AlertsLink:
    """Alertmanagers by source (sources sharing one are asked once); the past comes from Prometheus."""

    def __init__(
        self,
        settings: Settings,
        prometheus: Callable[[str], PastClient],
        *,
        log_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._prometheus = prometheus
        self._clients: dict[str, AlertmanagerClient] = {}
        self._by_source: dict[str, tuple[str, AlertmanagerSettings]] = {}
        users: dict[str, list[str]] = {}
        self._selectors = {source.name: source.selector for source in settings.sources}
        for source in settings.sources:
            chosen = settings.alertmanager_for(source.name)
            if chosen is None:
                continue
            key = repr((chosen.connection.url, chosen.connection.auth, chosen.connection.headers))
            if key not in self._clients:
                self._clients[key] = AlertmanagerClient(chosen.connection)
            self._by_source[source.name] = (key, chosen)
            # the sources one board serves: those of one Alertmanager whose selectors keep the same
            # alerts (the board of `cluster="a"` is not `cluster="b"`'s: `alerts.SourceRule`)
            users.setdefault(key + "\0" + SourceRule(source.selector).key, []).append(source.name)
        self._users = {name: tuple(names) for names in users.values() for name in names}
        self._silencers = {
            name: LinkSilencer(SilenceWriter(self._clients[key]), chosen.author, log_path, clock)
            for name, (key, chosen) in self._by_source.items()
            if chosen.allow_silence
        }

    def info(self, source: str) -> AlertmanagerInfo | None:
        if source not in self._by_source:
            return None
        _, chosen = self._by_source[source]
        return AlertmanagerInfo(chosen.connection.display_url, self._users[source], chosen.allow_silence,
                                chosen.author)  # fmt: skip

    async def board(self, source: str, at: float | None) -> AlertsBoard:
        """Live: Alertmanager's alerts (those of this source's selector: `alerts.SourceRule`) and
        silences. At a past moment: Prometheus's `ALERTS` then, of every Prometheus of the sources
        sharing this board, by the same rule (`alerts.board_at`)."""
        if at is not None:
            users = self._users.get(source, (source,))
            return await board_at({name: self._prometheus(name) for name in users}, at,
                                  self._selectors.get(source, ""))  # fmt: skip
        client = self._clients[self._by_source[source][0]]
        alerts, silences = await asyncio.gather(client.alerts(), client.silences())
        return board(of_source(alerts, self._selectors.get(source, "")), silences)

    def silencer(self, source: str) -> LinkSilencer | None:
        """The write path, which exists only where the config says `allow_silence: true`."""
        return self._silencers.get(source)

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))


__all__ = ["AlertsLink", "LinkSilencer"]
