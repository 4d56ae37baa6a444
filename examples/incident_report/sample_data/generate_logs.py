"""Regenerate the sample logs from the sample tickets: ``python examples/incident_report/sample_data/generate_logs.py``.

A data generator, not runtime code. The logs must tell the same story as tickets.json
(an error burst in the right service while each incident was open, quiet traffic
otherwise), so the bursts are derived from the tickets rather than written by hand.
It is seeded, so running it again rewrites byte-identical files.
"""

from __future__ import annotations

import json
import random
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261116
START = datetime(2026, 11, 15, tzinfo=UTC)  # a day either side of ISO week 2026-W47
END = datetime(2026, 11, 24, tzinfo=UTC)
BACKGROUND_PER_DAY = 70
BURST_SIZE = {"Highest": 150, "High": 80, "Medium": 40, "Low": 15, "Lowest": 5}
MAX_BURST = timedelta(hours=8)

SERVICE_OF = {
    "payments": "payments-api",
    "auth": "auth-service",
    "search": "search-api",
    "checkout": "checkout-web",
    "notifications": "notifications-worker",
}

# (level, template) pairs; placeholders are filled with fresh ids and numbers per line.
BACKGROUND = {
    "payments-api": [
        ("INFO", "charge {ch} captured for order {ord} amount {amt} EUR in {ms}ms"),
        ("INFO", "refund {rf} issued for order {ord}"),
        ("WARN", "gateway latency {ms}ms above 2000ms budget (order {ord})"),
        ("ERROR", "upstream connection reset by peer (pool gw-pool-{small})"),
    ],
    "auth-service": [
        ("INFO", "issued access token for user {uuid} (client web)"),
        ("INFO", "refreshed session for user {uuid}"),
        ("WARN", "login rate limit hit from {ip}"),
    ],
    "search-api": [
        ("INFO", "query served in {ms}ms: {small} hits (shard {shard})"),
        ("WARN", "slow query {ms}ms on shard {shard}"),
    ],
    "checkout-web": [
        ("INFO", "checkout started for cart {cart} with {small} items"),
        ("INFO", "order {ord} placed, total {amt} EUR"),
        ("WARN", "3DS challenge took {ms}ms for order {ord}"),
    ],
    "notifications-worker": [
        ("INFO", "email {uuid} handed to relay in {ms}ms"),
        ("INFO", "push sent to device {hex16} for order {ord}"),
        ("WARN", "SMTP relay {ip} slow to accept: {ms}ms"),
    ],
}
BACKGROUND_WEIGHTS = {"INFO": 30, "WARN": 4, "ERROR": 1}

# A ticket's key, else its first label found here, picks the failure it shows in the logs.
THEMES = {
    "gateway-timeout": [
        ("payments-api", "ERROR", "payment gateway timeout after 30000ms (order {ord}, attempt {attempt})"),
        ("payments-api", "ERROR", "circuit breaker open for gateway pool gw-pool-{small}; failing fast"),
        ("checkout-web", "ERROR", "payment step failed for cart {cart}: upstream timeout from payments-api"),
    ],
    "token-refresh": [
        ("auth-service", "ERROR", "refresh token rejected for user {uuid}: signature verification failed (kid {hex8})"),
        ("auth-service", "WARN", "unknown signing key {hex8} in refresh token"),
    ],
    "index-lag": [
        ("search-api", "ERROR", "bulk index request failed: es_rejected_execution_exception (queue capacity 200, shard {shard})"),
        ("search-api", "WARN", "indexer lag {ms}s exceeds 300s threshold on shard {shard}"),
    ],
    "sms": [("notifications-worker", "ERROR", "SMS provider returned 429 for batch {batch}; retrying in {small}s")],
    "email-delay": [("notifications-worker", "ERROR", "SMTP 421 from relay {ip}: too many connections; message {uuid} deferred")],
    "push-duplicates": [("notifications-worker", "ERROR", "push delivery retried after ack timeout for device {hex16} (attempt {attempt})")],
    # Tickets whose labels name no shared failure get their own symptom, by key.
    "INC-1202": [("checkout-web", "ERROR", "order confirmation poll timed out for order {ord} after {ms}ms")],
    "INC-1205": [("search-api", "WARN", "autocomplete returned discontinued product {ch}")],
    "INC-1215": [("auth-service", "WARN", "password reset link built for host staging.internal (user {uuid})")],
    "INC-1216": [("checkout-web", "ERROR", "cart {cart} total mismatch: expected {amt} EUR, got {amt} EUR")],
    "INC-1221": [("checkout-web", "ERROR", "gift card balance lookup for cart {cart} failed: payments-api returned 404")],
    "INC-1226": [("payments-api", "ERROR", "refund webhook {rf} rejected: out-of-order event sequence {small}")],
    "INC-1231": [("auth-service", "ERROR", "TOTP code rejected for admin {uuid}: clock skew {small}s")],
}  # fmt: skip


def fill(template: str, rng: random.Random) -> str:
    def token(prefix: str, length: int) -> str:
        return prefix + "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))

    values = {
        "ch": token("ch_", 12),
        "rf": token("re_", 10),
        "ord": token("ord_", 8),
        "cart": token("cart_", 8),
        "batch": token("b_", 10),
        "uuid": str(_uuid(rng)),
        "hex8": f"{rng.getrandbits(32):08x}",
        "hex16": f"{rng.getrandbits(64):016x}",
        "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "amt": f"{rng.uniform(5, 400):.2f}",
        "ms": str(rng.randint(40, 9000)),
        "small": str(rng.randint(1, 60)),
        "shard": str(rng.randint(0, 7)),
        "attempt": str(rng.randint(1, 3)),
    }
    return template.format(**values)


def _uuid(rng: random.Random) -> str:
    raw = f"{rng.getrandbits(128):032x}"
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:]}"


def parse_jira_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def event(moment: datetime, level: str, service: str, message: str) -> dict[str, str]:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return {"ts": stamp, "level": level, "service": service, "message": message}


def background(rng: random.Random) -> list[dict[str, str]]:
    events = []
    days = (END - START).days
    for service, templates in BACKGROUND.items():
        weights = [BACKGROUND_WEIGHTS[level] for level, _ in templates]
        for _ in range(BACKGROUND_PER_DAY * days):
            level, template = rng.choices(templates, weights=weights)[0]
            moment = START + timedelta(seconds=rng.uniform(0, days * 86400))
            events.append(event(moment, level, service, fill(template, rng)))
    return events


def bursts(rng: random.Random, issues: list[dict[str, object]]) -> list[dict[str, str]]:
    events = []
    for issue in issues:
        fields = issue["fields"]
        assert isinstance(fields, dict)
        names = [issue["key"], *fields["labels"]]
        theme = next((THEMES[name] for name in names if name in THEMES), None)
        begin = parse_jira_time(fields["created"]) - timedelta(minutes=15)
        if theme is None or begin >= END:
            continue
        resolved = fields["resolutiondate"]
        end = parse_jira_time(resolved) if resolved else begin + MAX_BURST
        end = min(end, begin + MAX_BURST, END)
        span = (end - begin).total_seconds()
        for _ in range(BURST_SIZE[fields["priority"]["name"]]):
            service, level, template = rng.choice(theme)
            moment = begin + timedelta(seconds=rng.triangular(0, span, span * 0.2))
            events.append(event(moment, level, service, fill(template, rng)))
    return events


def main() -> None:
    rng = random.Random(SEED)
    issues = json.loads((HERE / "tickets.json").read_text())["issues"]
    events = background(rng) + bursts(rng, issues)
    out = HERE / "logs"
    out.mkdir(exist_ok=True)
    first_day, after_end = f"{START:%Y-%m-%d}", f"{END:%Y-%m-%d}"
    for service in sorted(BACKGROUND):
        lines = sorted(
            (e for e in events if e["service"] == service and first_day <= e["ts"] < after_end),
            key=lambda e: (e["ts"], e["message"]),
        )
        with (out / f"{service}.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(line) + "\n" for line in lines)


if __name__ == "__main__":
    main()
