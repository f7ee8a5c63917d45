#!/usr/bin/env python3
"""Pages a group commit of 64 learning records writes to the WAL, with random (UUIDv4) against
time-ordered (UUIDv7) statement ids: the xapi_statement table and indexes of
migrations/sqlite/0004_learning.sql, 96,000 statements already stored, then 200 commits measured.

    python3 benches/statement_pages.py
"""
import os
import random
import sqlite3
import tempfile
import time
import uuid

SCHEMA = """
CREATE TABLE xapi_statement (id TEXT PRIMARY KEY, stored_ms INTEGER NOT NULL, actor_key TEXT NOT NULL,
  verb_id TEXT NOT NULL, activity_id TEXT, registration TEXT, content_hash TEXT NOT NULL,
  voided INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);
CREATE INDEX xapi_statement_stored ON xapi_statement (stored_ms, id);
CREATE INDEX xapi_statement_actor ON xapi_statement (actor_key, stored_ms);
CREATE INDEX xapi_statement_activity ON xapi_statement (activity_id, stored_ms);
"""


def uuid7(counter=[0]):
    counter[0] += 1
    ms = int(time.time() * 1000)
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | ((counter[0] & 0xFFF) << 64) | (0b10 << 62) | random.getrandbits(62)))


def pages_per_commit(new_id, directory):
    path = os.path.join(directory, f"{new_id.__name__}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.executescript(SCHEMA)
    actors = [f"http://127.0.0.1:8080|{uuid.uuid4()}" for _ in range(64)]
    body = "x" * 800

    def group():
        db.execute("BEGIN IMMEDIATE")
        now = int(time.time() * 1000)
        for actor in actors:
            db.execute(
                "INSERT INTO xapi_statement VALUES (?, ?, ?, ?, ?, NULL, 'h', 0, ?)",
                (new_id(), now, actor, "http://adlnet.gov/expapi/verbs/progressed",
                 "http://127.0.0.1:8080/bai-hoc/cai-dat-vneid", body),
            )
        db.execute("COMMIT")

    for _ in range(1500):
        group()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = os.path.getsize(path + "-wal")
    for _ in range(200):
        group()
    frames = (os.path.getsize(path + "-wal") - before) / (4096 + 24)
    return frames / 200


def uuid4():
    return str(uuid.uuid4())


with tempfile.TemporaryDirectory() as directory:
    random_ids = pages_per_commit(uuid4, directory)
    ordered_ids = pages_per_commit(uuid7, directory)
print(f"WAL pages per commit of 64 statements, random ids (UUIDv4, baseline): {random_ids:6.1f}")
print(f"WAL pages per commit of 64 statements, time-ordered ids (UUIDv7):     {ordered_ids:6.1f}")
print(f"ratio: {ordered_ids / random_ids:.2f}")
