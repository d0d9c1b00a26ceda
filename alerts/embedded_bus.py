"""The `Bus` as a durable log in one SQLite file: the default for `lookout run` on one machine.

URL: `embedded:///abs/path/bus.db` or `embedded://relative/path.db` (relative to the working
folder). Several processes may open the same file at once: SQLite in WAL mode lets readers work
beside one writer, and `busy_timeout` makes writers queue instead of failing.

Kafka semantics, reduced to what Lookout needs:
- every topic has one partition (0) and offsets 0, 1, 2, ... in the order records were written;
- a consumer group starts at the earliest record, `poll` returns records after the group's
  position, `commit` stores the offset after the last polled record (the next one to read);
- ONE ACTIVE CONSUMER PER GROUP. There is no group membership or partition assignment: two
  consumers of one group both read everything and overwrite each other's commits. Run one
  dispatcher per embedded bus; use Kafka to share a topic between several.
- records are kept until the file is deleted (no retention yet).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from alerts.bus import BusError, Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    topic TEXT PRIMARY KEY,
    next_offset INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL DEFAULT 0,
    offset INTEGER NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    group_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL DEFAULT 0,
    offset INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
"""

_BUSY_TIMEOUT_MS = 10_000
# How often an idle `poll` looks for new records; `PRAGMA data_version` makes a look cheap.
_IDLE_CHECK_S = 0.02


def _path_from_url(url: str) -> Path:
    prefix = "embedded://"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise BusError(f"embedded bus url must look like embedded:///abs/path/bus.db, got {url!r}")
    # embedded:///abs/x.db -> /abs/x.db ; embedded://rel/x.db -> rel/x.db
    return Path(url[len(prefix):].split("?", 1)[0])


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE for writers), so a writer
    # takes the lock up front instead of failing to upgrade a read lock under contention.
    conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a record the producer saw flushed survives a power cut, as an acks=all broker would.
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class EmbeddedBus:
    def __init__(self, url: str) -> None:
        self.url = url
        self.path = _path_from_url(url)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = _connect(self.path)
            try:
                conn.executescript(_SCHEMA)
            finally:
                conn.close()
        except (OSError, sqlite3.Error) as exc:
            raise BusError(f"cannot open the embedded bus {self.path}: {exc}") from exc

    def producer(self) -> "EmbeddedProducer":
        return EmbeddedProducer(self.path)

    def consumer(self, topics: list[str], group_id: str) -> "EmbeddedConsumer":
        return EmbeddedConsumer(self.path, topics, group_id)

    def ensure_topics(self, topics: list[str], partitions: int = 1) -> None:
        # One partition per topic here; `partitions` matters only to Kafka.
        conn = _connect(self.path)
        try:
            conn.executemany("INSERT OR IGNORE INTO topics(topic) VALUES (?)", [(t,) for t in topics])
        except sqlite3.Error as exc:
            raise BusError(f"embedded bus {self.path}: creating topics failed: {exc}") from exc
        finally:
            conn.close()


class EmbeddedProducer:
    """Buffers records; `flush()` writes them in one transaction (all or none)."""

    # Write on our own past this many buffered records, as a Kafka producer sends full batches.
    max_buffered = 1000

    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn = _connect(path)
        self._buffer: list[tuple[str, bytes | None, bytes, int]] = []
        self._lock = threading.Lock()

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        with self._lock:
            self._buffer.append((topic, key, bytes(value), int(time.time() * 1000)))
            full = len(self._buffer) >= self.max_buffered
        if full:
            self.flush()

    def flush(self, timeout: float | None = None) -> None:
        with self._lock:
            batch, self._buffer = self._buffer, []
            if not batch:
                return
            try:
                self._write(batch)
            except sqlite3.Error as exc:
                # The batch is dropped like a Kafka producer's failed batch: the caller resends.
                raise BusError(f"embedded bus {self._path}: write failed: {exc}") from exc

    def _write(self, batch: list[tuple[str, bytes | None, bytes, int]]) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            next_offset: dict[str, int] = {}
            rows = []
            for topic, key, value, ts in batch:
                if topic not in next_offset:
                    conn.execute("INSERT OR IGNORE INTO topics(topic) VALUES (?)", (topic,))
                    (next_offset[topic],) = conn.execute(
                        "SELECT next_offset FROM topics WHERE topic = ?", (topic,)
                    ).fetchone()
                rows.append((topic, next_offset[topic], key, value, ts))
                next_offset[topic] += 1
            conn.executemany(
                "INSERT INTO records(topic, partition, offset, key, value, ts) VALUES (?, 0, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "UPDATE topics SET next_offset = ? WHERE topic = ?",
                [(n, t) for t, n in next_offset.items()],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._conn.close()


class EmbeddedConsumer:
    """The one active consumer of its group (see the module docstring)."""

    def __init__(self, path: Path, topics: list[str], group_id: str) -> None:
        self._path = path
        self._topics = list(dict.fromkeys(topics))
        if not self._topics:
            raise BusError("an embedded bus consumer needs at least one topic")
        self._group = group_id
        self._conn = _connect(path)
        self._lock = threading.Lock()
        committed = dict(
            self._conn.execute(
                f"SELECT topic, offset FROM group_offsets WHERE group_id = ? AND partition = 0 "
                f"AND topic IN ({','.join('?' * len(self._topics))})",
                (group_id, *self._topics),
            ).fetchall()
        )
        # A new group starts from the earliest record (offset 0), like auto_offset_reset=earliest.
        self._position = {t: committed.get(t, 0) for t in self._topics}
        self._committed = dict(self._position)

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[Record]:
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._lock:
            last_version = None
            while True:
                version = self._conn.execute("PRAGMA data_version").fetchone()[0]
                if version != last_version:  # another connection wrote since we last looked
                    last_version = version
                    records = self._read(max_records)
                    if records:
                        return records
                if time.monotonic() >= deadline:
                    return []
                time.sleep(min(_IDLE_CHECK_S, max(0.0, deadline - time.monotonic())))

    def _read(self, max_records: int) -> list[Record]:
        out: list[Record] = []
        try:
            for topic in self._topics:
                rows = self._conn.execute(
                    "SELECT offset, key, value, ts FROM records WHERE topic = ? AND partition = 0 "
                    "AND offset >= ? ORDER BY offset LIMIT ?",
                    (topic, self._position[topic], max_records - len(out)),
                ).fetchall()
                for offset, key, value, ts in rows:
                    out.append(Record(topic, 0, offset, key, bytes(value), ts))
                if rows:
                    self._position[topic] = rows[-1][0] + 1
                if len(out) >= max_records:
                    break
        except sqlite3.Error as exc:
            raise BusError(f"embedded bus {self._path}: read failed: {exc}") from exc
        return out

    def commit(self) -> None:
        with self._lock:
            changed = [(t, o) for t, o in self._position.items() if self._committed.get(t) != o]
            if not changed:
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "INSERT INTO group_offsets(group_id, topic, partition, offset) VALUES (?, ?, 0, ?) "
                    "ON CONFLICT (group_id, topic, partition) DO UPDATE SET offset = excluded.offset",
                    [(self._group, t, o) for t, o in changed],
                )
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise BusError(f"embedded bus {self._path}: commit failed: {exc}") from exc
            self._committed.update(changed)

    def close(self) -> None:
        self._conn.close()
