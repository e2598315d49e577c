"""Open Badges credentials per second on one core: canonicalising and signing, and verifying.

    .venv/bin/python -m bench.credentials [--update-docs]

A credential of the shape the app issues (services/credentials.py) is signed with the
eddsa-rdfc-2022 cryptosuite (infra/data_integrity.py): two RDFC-1.0 canonicalisations with pyld
(the proof options and the document), two SHA-256 hashes and one Ed25519 signature. "First" is the
first signature a process makes, which also parses the vendored contexts; pyld caches them after.
Verifying is the same canonicalisations and an Ed25519 verification. No database: what the
certificate task adds to it is one insert.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from academy_app.infra import issuer_keys
from academy_app.infra.data_integrity import add_proof, signed_bytes
from academy_app.infra.multikey import base58_decode
from academy_app.models import Certificate, Course
from academy_app.services import credentials
from bench.machine import Monitor
from bench.report import publish

ROUNDS = 200


def sample_credential() -> dict:
    certificate = Certificate(id=1234, code="ABCD2345EFGH6789", user_id=1, course_id=1,
                              student_name="Zoë Ångström",
                              course_title="Data Science: From Zero to Confident Analyst",
                              instructor_name="Iris Instructor",
                              issued_at=datetime(2026, 12, 5, tzinfo=UTC))
    course = Course(id=1, slug="data-science", title=certificate.course_title,
                    description="Statistics and Python, from scratch, with real data sets.")
    return credentials._credential(
        certificate, "zoe@example.com", course,
        "Completed every lesson and passed every graded quiz (pass mark 70 %).")


def timed(action: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    key = issuer_keys.IssuerKey(Ed25519PrivateKey.generate())
    document = sample_credential()
    method = f"{credentials.issuer_id()}#{key.public_multibase}"

    def sign() -> dict:
        return add_proof(document, key, method, "2026-12-05T00:00:00Z")

    monitor = Monitor()
    with monitor.phase("first signature"):
        first = timed(sign, 1)[0]
    signed = sign()
    proof = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    signature = base58_decode(signed["proof"]["proofValue"][1:])

    def check() -> None:
        assert key.private.public_key().verify(signature, signed_bytes(document, proof)) is None

    with monitor.phase("sign and verify"):
        rows = [("Sign (first in a process)", [first]), ("Sign", timed(sign, ROUNDS)),
                ("Verify", timed(check, ROUNDS))]
    lines = ["| Step | ms p50 / p95 | Per second per core |", "|---|---:|---:|"]
    for name, times in rows:
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else p50
        lines.append(f"| {name} | {p50:.1f} / {p95:.1f} | {1000 / p50:.0f} |")
    publish("credentials", "\n".join(lines), monitor, write=args.update_docs)


if __name__ == "__main__":
    main()
