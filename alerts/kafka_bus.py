"""The `Bus` on a Kafka-protocol broker through kafka-python (Apache Kafka in production).

URL: `kafka://host:port[,host:port][?option=value&...]`. Options pass through to kafka-python's
producer, consumer and admin client, each getting the ones it knows (`session_timeout_ms` goes to
consumers only, `request_timeout_ms` to all three). Options of the bus itself, for
topics that `ensure_topics` creates: `replication_factor` (default: the broker's default) and
`retention_hours` (default per topic: alerts and dispatch events 7 days, dead letters 30 days).
Credentials go in options (`security_protocol`, `sasl_mechanism`, `sasl_plain_username`,
`sasl_plain_password`); a `user:pass@` part is dropped. Messages and `.url` name hosts only.

Delivery guarantees (DESIGN.md): producers wait for all in-sync replicas (`acks=all`, forced) and
consumers never auto-commit (forced): the caller commits after it has processed what it polled.
Every client has bounded timeouts, so an unreachable broker becomes a `BusError` in seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from urllib.parse import parse_qsl, urlsplit

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from alerts.bus import BusError, Record

log = logging.getLogger(__name__)

# Bounded waits so a missing broker fails fast instead of hanging a worker (kafka-python waits
# 30-120 s by default). Reconnect backoff is capped low because alerts wait on it after an outage.
_COMMON = {
    "client_id": "lookout",
    "bootstrap_timeout_ms": 5000,
    "reconnect_backoff_max_ms": 2000,
}
_PRODUCER = {
    **_COMMON,
    "linger_ms": 5,
    "request_timeout_ms": 10000,
    "delivery_timeout_ms": 30000,
    "max_block_ms": 10000,
    "retry_backoff_ms": 100,
}
# request_timeout_ms also bounds `commit()`, which otherwise retries a missing coordinator.
_CONSUMER = {**_COMMON, "auto_offset_reset": "earliest", "request_timeout_ms": 10000}
_ADMIN = {**_COMMON, "request_timeout_ms": 10000}

# The delivery guarantees depend on these; a URL cannot change them (-1 is Kafka's "all").
_FIXED_PRODUCER = {"acks": ("all", -1)}
_FIXED_CONSUMER = {"enable_auto_commit": (False,)}

_BUS_OPTIONS = {"replication_factor", "retention_hours"}
# How long the broker keeps records of the topics Lookout creates: long enough to replay a week
# into a rebuilt store; dead letters longer, someone has to look at them.
_RETENTION_HOURS = {"lookout.alerts.dlq": 30 * 24}
_DEFAULT_RETENTION_HOURS = 7 * 24
_TOPIC_EXISTS = TopicAlreadyExistsError.errno


_TEXT_HINTS = ("password", "username", "name", "file", "url", "protocol", "mechanism")


def _typed(key: str, value: str) -> object:
    """URL query strings are text; kafka-python wants ints, floats and booleans where its
    defaults are numbers, but a numeric-looking password or client id must stay text."""
    default = next(
        (cfg[key] for cfg in (KafkaProducer.DEFAULT_CONFIG, KafkaConsumer.DEFAULT_CONFIG,
                              KafkaAdminClient.DEFAULT_CONFIG) if key in cfg),
        None,
    )
    if isinstance(default, str) or key.endswith("_id") or any(hint in key for hint in _TEXT_HINTS):
        return value
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KafkaError):  # its str() already starts with the class name
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _force_close(producer: KafkaProducer) -> None:
    """Close now, failing whatever is still queued (the caller sends it again).

    kafka-python 3.0's `close(timeout=0)` first calls `flush(0)`, which raises while records are
    pending and leaves the producer half-open (its `__del__` then raises again). In that case stop
    its I/O thread the way `close` would have: `force_close` aborts the batches and closes the
    network client.
    """
    try:
        producer.close(timeout=0)
        return
    except KafkaError:
        pass
    sender = getattr(producer, "_sender", None)
    if sender is not None:
        sender.force_close()
    producer._closed = True  # so __del__ does not try the failing close again


class KafkaBus:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "kafka" or not parts.hostname:
            raise BusError(f"kafka bus url must look like kafka://host:port[,host:port], got {url!r}")
        # Credentials never appear in messages: keep only hosts (and drop any user:pass@).
        hosts = parts.netloc.rsplit("@", 1)[-1]
        self.bootstrap = [h.strip() for h in hosts.split(",") if h.strip()]
        self.url = f"kafka://{','.join(self.bootstrap)}"
        options = {k: _typed(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        self.replication_factor = int(options.pop("replication_factor", -1))
        retention = options.pop("retention_hours", None)
        self.retention_hours: float | None = None if retention is None else float(retention)
        self._producer_cfg = self._route(options, KafkaProducer.DEFAULT_CONFIG, _PRODUCER, _FIXED_PRODUCER)
        self._consumer_cfg = self._route(options, KafkaConsumer.DEFAULT_CONFIG, _CONSUMER, _FIXED_CONSUMER)
        self._admin_cfg = self._route(options, KafkaAdminClient.DEFAULT_CONFIG, _ADMIN, {})
        known = set(KafkaProducer.DEFAULT_CONFIG) | set(KafkaConsumer.DEFAULT_CONFIG) | set(
            KafkaAdminClient.DEFAULT_CONFIG
        )
        unknown = sorted(set(options) - known - _BUS_OPTIONS)
        if unknown:
            raise BusError(f"{self.url}: unknown option(s) {', '.join(unknown)}")

    def _route(self, options: dict, accepted: dict, defaults: dict, fixed: dict) -> dict:
        cfg = {k: v for k, v in defaults.items() if k in accepted}
        cfg.update({k: v for k, v in options.items() if k in accepted})
        for key, allowed in fixed.items():
            if key in options and options[key] not in allowed:
                raise BusError(f"{self.url}: option {key} is fixed to {allowed[0]!r} by Lookout")
            cfg[key] = allowed[0]
        cfg["bootstrap_servers"] = self.bootstrap
        return cfg

    def producer(self) -> "KafkaBusProducer":
        return KafkaBusProducer(self)

    def consumer(self, topics: list[str], group_id: str) -> "KafkaBusConsumer":
        return KafkaBusConsumer(self, topics, group_id)

    def ensure_topics(self, topics: list[str], partitions: int = 1) -> None:
        """Create the topics that do not exist (with `partitions`, the replication factor and a
        retention); ones created meanwhile by others are fine. Existing topics are left as they
        are; one with fewer partitions than asked for is logged (keys still keep each camera's
        alerts in order, there is only less parallelism)."""
        try:
            admin = KafkaAdminClient(**self._admin_cfg)
        except Exception as exc:  # NoBrokersAvailable, socket errors, bad config
            raise BusError(f"cannot reach the Kafka broker at {self.url}: {_describe(exc)}") from exc
        missing = list(topics)
        try:
            existing = set(admin.list_topics())
            missing = [t for t in topics if t not in existing]
            self._check_partitions(admin, [t for t in topics if t in existing], partitions)
            if not missing:
                return
            response = admin.create_topics(
                {t: self._topic_spec(t, partitions) for t in missing}, raise_errors=False, wait_for_metadata=True
            )
            refused = [
                f"{t['name']}: {t.get('error_message') or KafkaError.__name__ + ' ' + str(t['error_code'])}"
                for t in response.get("topics", [])
                if t["error_code"] not in (0, _TOPIC_EXISTS)
            ]
            if refused:
                raise BusError(f"the broker at {self.url} refused to create topics: {'; '.join(refused)}")
        except KafkaError as exc:
            raise BusError(f"creating topics {missing} on {self.url} failed: {_describe(exc)}") from exc
        finally:
            admin.close()


    def _topic_spec(self, topic: str, partitions: int) -> dict:
        hours = self.retention_hours or _RETENTION_HOURS.get(topic, _DEFAULT_RETENTION_HOURS)
        return {"num_partitions": partitions, "replication_factor": self.replication_factor,
                "configs": {"retention.ms": str(int(hours * 3600 * 1000))}}

    def _check_partitions(self, admin: KafkaAdminClient, topics: list[str], wanted: int) -> None:
        if not topics or wanted <= 1:
            return
        try:
            described = admin.describe_topics(topics)
        except KafkaError as exc:  # verification only: the topic exists and is usable
            log.debug("describing topics %s failed: %s", topics, exc)
            return
        for t in described:
            have = len(t.get("partitions") or [])
            if 0 < have < wanted:
                log.warning("topic %s has %d partition(s), fewer than the %d asked for", t.get("name") or t.get("topic"), have, wanted)


class KafkaBusProducer:
    """Queues records; `flush()` waits for every acknowledgement or raises `BusError`.

    The kafka-python producer is built on first use and rebuilt after any delivery failure: an
    idempotent producer whose broker forgot its producer id (a restarted broker, an expired id)
    fails every later send, so the only cure is a new one. After `flush()` raises, the records
    queued before it may or may not have arrived: the caller sends them again (at-least-once).
    """

    def __init__(self, bus: KafkaBus) -> None:
        self._bus = bus
        self._producer: KafkaProducer | None = None
        self._futures: deque = deque()  # (send number, future) not yet waited for
        self._sends = 0
        self._lock = threading.Lock()
        self.rebuilds = 0

    def _client(self) -> KafkaProducer:
        if self._producer is None:
            try:
                self._producer = KafkaProducer(**self._bus._producer_cfg)
            except Exception as exc:
                raise BusError(f"cannot reach the Kafka broker at {self._bus.url}: {_describe(exc)}") from exc
        return self._producer

    def _discard(self) -> None:
        producer, self._producer = self._producer, None
        self._futures = deque()
        if producer is not None:
            self.rebuilds += 1
            try:
                _force_close(producer)
            except Exception:  # a dead client may fail to close; it is dropped either way
                log.debug("closing a failed producer raised", exc_info=True)

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        with self._lock:
            producer = self._client()
            try:
                future = producer.send(topic, value=value, key=key)
                self._sends += 1
                self._futures.append((self._sends, future))
            except KafkaError as exc:  # e.g. metadata not available within max_block_ms
                self._discard()
                raise BusError(f"send to {topic} on {self._bus.url} failed: {_describe(exc)}") from exc

    def flush(self, timeout: float | None = None) -> None:
        with self._lock:
            if self._producer is None:
                return
            futures = [f for _, f in self._futures]
            self._futures = deque()
            try:
                self._producer.flush(timeout=timeout)
            except KafkaError as exc:  # KafkaTimeoutError: not acknowledged in time
                self._discard()
                raise BusError(f"flush to {self._bus.url} failed: {_describe(exc)}") from exc
            # flush() returned, so every future should be done; one that is not counts as lost.
            errors = [f.exception or KafkaError("not acknowledged") for f in futures if not f.succeeded()]
            if errors:
                self._discard()
                raise BusError(
                    f"{len(errors)} of {len(futures)} records not delivered to {self._bus.url}: "
                    f"{_describe(errors[0])}"
                )

    def checkpoint(self) -> int:
        """A mark after everything sent so far, for `wait` (pipelined delivery)."""
        return self._sends

    def wait(self, checkpoint: int, timeout: float | None = None) -> None:
        """Wait for the acks of the records sent up to `checkpoint`; later ones keep flying.
        Raises BusError (and rebuilds the client) if any of them failed or timed out."""
        with self._lock:
            futures = []
            while self._futures and self._futures[0][0] <= checkpoint:
                futures.append(self._futures.popleft()[1])
        deadline = None if timeout is None else time.monotonic() + timeout
        for f in futures:
            try:
                f.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except KafkaError as exc:
                with self._lock:
                    self._discard()
                raise BusError(f"{type(exc).__name__} waiting for acks from {self._bus.url}: {_describe(exc)}") from exc

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
            if producer is not None:
                try:
                    producer.close(timeout=5)
                except KafkaError:  # records still unacknowledged: the caller knows (no flush)
                    _force_close(producer)


class _ForgetRevoked(ConsumerRebalanceListener):
    """Drop positions of partitions taken away in a rebalance.

    Committing them later would overwrite the new owner's progress. Not committing them is the
    at-least-once choice: the new owner re-reads those records, and consumers dedupe by id.
    """

    def __init__(self, positions: dict[TopicPartition, int]) -> None:
        self._positions = positions

    def on_partitions_revoked(self, revoked) -> None:
        for tp in revoked:
            self._positions.pop(tp, None)

    def on_partitions_assigned(self, assigned) -> None:
        pass


class KafkaBusConsumer:
    """A group member; `commit()` commits exactly the records `poll()` has returned."""

    # A member that holds partitions with records behind its position, yet receives nothing for
    # this long, is wedged (seen against a restarted test broker): poll() raises BusError so the
    # owner rebuilds it, as after any bus error. Idle members of a larger group are not affected.
    stall_s = 30.0

    def __init__(self, bus: KafkaBus, topics: list[str], group_id: str) -> None:
        self._bus = bus
        self._positions: dict[TopicPartition, int] = {}
        self._idle_since = time.monotonic()
        try:
            self._consumer = KafkaConsumer(group_id=group_id, **bus._consumer_cfg)
            self._consumer.subscribe(topics=list(topics), listener=_ForgetRevoked(self._positions))
        except Exception as exc:
            raise BusError(f"cannot reach the Kafka broker at {bus.url}: {_describe(exc)}") from exc

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[Record]:
        try:
            batches = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        except KafkaError as exc:
            raise BusError(f"poll from {self._bus.url} failed: {_describe(exc)}") from exc
        if not any(batches.values()):
            self._check_stalled()
            return []
        self._idle_since = time.monotonic()
        out: list[Record] = []
        for tp, records in batches.items():
            for r in records:
                # A tombstone (value None) has no alert in it; the dispatcher skips empty values.
                out.append(Record(r.topic, r.partition, r.offset, r.key, r.value or b"", r.timestamp))
            if records:
                self._positions[tp] = records[-1].offset + 1
        return out

    def _check_stalled(self) -> None:
        now = time.monotonic()
        if now - self._idle_since < self.stall_s:
            return
        self._idle_since = now  # look again after another stall_s
        try:
            assigned = list(self._consumer.assignment())  # we never pause partitions
            if not assigned:
                return
            ends = self._consumer.end_offsets(assigned)
            behind = {tp: ends[tp] - self._consumer.position(tp) for tp in assigned if tp in ends}
        except KafkaError as exc:
            raise BusError(f"poll from {self._bus.url} failed: {_describe(exc)}") from exc
        lagging = {f"{tp.topic}[{tp.partition}]": n for tp, n in behind.items() if n > 0}
        if lagging:
            raise BusError(f"consumer stalled: nothing received for {self.stall_s:.0f} s while behind {lagging}")

    def commit(self) -> None:
        if not self._positions:
            return
        offsets = {tp: OffsetAndMetadata(off, "", -1) for tp, off in self._positions.items()}
        try:
            self._consumer.commit(offsets=offsets)
        except KafkaError as exc:
            # CommitFailedError after a rebalance: whoever owns the partitions now re-reads them.
            raise BusError(f"commit to {self._bus.url} failed: {_describe(exc)}") from exc
        self._positions.clear()

    def close(self) -> None:
        self._consumer.close(autocommit=False)
