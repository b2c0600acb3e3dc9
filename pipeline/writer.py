"""Write planned rows (`pipeline.rows`) to the archive, one way per database, in few round trips.

The target is 500 letters/s (bench/archive.py), so each dialect reads everything new rows
depend on (known files, letters, 字號, organisations) and reserves ids in one go, under the
archive's write lock (`Wanted` → `Known`), then writes the planned `Rows`: SQLite a statement
per table, PostgreSQL one statement for all tables.
"""

from __future__ import annotations

import datetime
import itertools
import json
from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Connection, Table, text

from pipeline.db import Archive
from pipeline.rows import ALLOCATED, WRITE_ORDER, Known, Rows, Wanted
from schemas.orm import Base, StoredFile

FILES = cast(Table, StoredFile.__table__)


class Writer:
    """How one database reads what new rows depend on and writes them, in few round trips."""

    def read(self, conn: Connection, wanted: Wanted, cached_orgs: dict[str, int]) -> Known:
        raise NotImplementedError

    def write(self, conn: Connection, rows: Rows) -> None:
        raise NotImplementedError


class _SQLite(Writer):
    """In-process: small statements cost little; ids follow the largest in use (we hold the lock)."""

    def __init__(self, engine_dialect: Any) -> None:
        self.sql: dict[str, str] = {}
        self.columns: dict[str, list[str]] = {}
        self.procs: dict[str, list[Any]] = {}
        for table in WRITE_ORDER:
            if table == "document_grams":  # an FTS5 table, not a model
                self.columns[table] = ["rowid", "subject", "parties", "rest"]
                self.procs[table] = [None] * 4
            else:
                cols = list(Base.metadata.tables[table].columns)
                self.columns[table] = [c.name for c in cols]
                self.procs[table] = [c.type.bind_processor(engine_dialect) for c in cols]
            names = self.columns[table]
            self.sql[table] = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        file_cols = list(FILES.columns)
        self.file_procs = {c.name: c.type.bind_processor(engine_dialect) for c in file_cols}

    def read(self, conn: Connection, wanted: Wanted, cached_orgs: dict[str, int]) -> Known:
        run = conn.exec_driver_sql

        def lookup(sql: str, values: list[str]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for start in range(0, len(values), 500):  # below SQLite's limit on parameters
                chunk = values[start : start + 500]
                for row in run(sql.format(", ".join("?" * len(chunk))), tuple(chunk)):
                    out[row[0]] = row[1] if len(row) == 2 else tuple(row[1:])
            return out

        files = lookup("SELECT sha256, id, status, error FROM files WHERE sha256 IN ({})", wanted.shas)
        letters = lookup("SELECT letter_key, id FROM documents WHERE letter_key IN ({})", wanted.letters)
        versions: dict[str, dict[str, int]] = {}
        for start in range(0, len(wanted.letters), 500):
            chunk = wanted.letters[start : start + 500]
            for key, version_id, tkey in run(
                "SELECT d.letter_key, v.id, v.text_key FROM documents AS d JOIN documents AS v "
                f"ON v.id = d.id OR v.version_of = d.id WHERE d.letter_key IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            ):
                versions.setdefault(key, {})[tkey or ""] = version_id
        numbers = lookup(
            "SELECT doc_number_key, min(id) FROM documents WHERE doc_number_key IN ({}) GROUP BY doc_number_key",
            wanted.numbers,
        )
        orgs = {n: cached_orgs[n] for n in wanted.organisations if n in cached_orgs}
        missing = [n for n in wanted.organisations if n not in orgs]
        orgs.update(lookup("SELECT name, id FROM organisations WHERE name IN ({})", missing))
        maxima = run("SELECT " + ", ".join(f"(SELECT coalesce(max(id), 0) FROM {t})" for t in ALLOCATED)).one()
        ids: dict[str, Iterator[int]] = {t: itertools.count(m + 1) for t, m in zip(ALLOCATED, maxima, strict=True)}
        return Known(files, letters, numbers, orgs, ids, versions)

    def write(self, conn: Connection, rows: Rows) -> None:
        for table in WRITE_ORDER:
            batch = rows.tables[table]
            if not batch:
                continue
            names, procs = self.columns[table], self.procs[table]
            params = [tuple(p(r.get(n)) if p else r.get(n) for n, p in zip(names, procs, strict=True)) for r in batch]
            conn.exec_driver_sql(self.sql[table], params)
        for update_row in rows.tables.get("files_update", []):
            names = [n for n in update_row if n != "id"]
            conn.exec_driver_sql(
                f"UPDATE files SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                (*(p(update_row[n]) if (p := self.file_procs[n]) else update_row[n] for n in names), update_row["id"]),
            )
        if rows.resolves:
            conn.exec_driver_sql(
                "UPDATE citations SET cited_id = ? WHERE doc_number_key = ? AND cited_id IS NULL AND document_id <> ?",
                [(r["id"], r["key"], r["id"]) for r in rows.resolves],
            )


class _PostgreSQL(Writer):
    """Over the network every round trip counts: one statement reads, one statement writes every table."""

    def __init__(self) -> None:
        self.sequences: dict[str, str] = {}  # table → its id sequence (schema-qualified)

    def read(self, conn: Connection, wanted: Wanted, cached_orgs: dict[str, int]) -> Known:
        missing = [n for n in wanted.organisations if n not in cached_orgs]
        if not self.sequences:
            self.sequences = {
                t: conn.execute(text(f"SELECT pg_get_serial_sequence('{t}', 'id')")).scalar_one() for t in ALLOCATED
            }
        sequences = ", ".join(
            f"array(SELECT nextval('{self.sequences[t]}') FROM generate_series(1, :n_{t}))" for t in ALLOCATED
        )
        row = conn.execute(
            text(
                "SELECT (SELECT coalesce(json_object_agg(sha256, json_build_array(id, status, error)), '{}') "
                " FROM files WHERE sha256 = ANY(CAST(:shas AS text[]))), "
                "(SELECT coalesce(json_object_agg(letter_key, id), '{}') FROM documents "
                " WHERE letter_key = ANY(CAST(:letters AS text[]))), "
                "(SELECT coalesce(json_object_agg(k, i), '{}') FROM (SELECT doc_number_key AS k, min(id) AS i "
                " FROM documents WHERE doc_number_key = ANY(CAST(:numbers AS text[])) GROUP BY doc_number_key) AS x), "
                "(SELECT coalesce(json_object_agg(name, id), '{}') FROM organisations "
                " WHERE name = ANY(CAST(:orgs AS text[]))), "
                "(SELECT coalesce(json_object_agg(k, vs), '{}') FROM (SELECT d.letter_key AS k, "
                " json_object_agg(coalesce(v.text_key, ''), v.id) AS vs FROM documents AS d JOIN documents AS v "
                " ON v.id = d.id OR v.version_of = d.id WHERE d.letter_key = ANY(CAST(:letters AS text[])) "
                " GROUP BY d.letter_key) AS y), " + sequences
            ),
            {
                "shas": wanted.shas, "letters": wanted.letters, "numbers": wanted.numbers, "orgs": missing,
                **{f"n_{t}": wanted.counts[t] for t in ALLOCATED},
            },
        ).one()
        orgs = {n: cached_orgs[n] for n in wanted.organisations if n in cached_orgs} | row[3]
        ids = {t: iter(values) for t, values in zip(ALLOCATED, row[5:], strict=True)}
        files = {sha: (v[0], v[1], v[2]) for sha, v in row[0].items()}
        return Known(files, row[1], row[2], orgs, ids, row[4])

    def write(self, conn: Connection, rows: Rows) -> None:
        parts: list[str] = []
        params: dict[str, Any] = {}
        for table in WRITE_ORDER:
            batch = rows.tables[table]
            if not batch:
                continue
            cols = ", ".join(batch[0])
            if table == "document_grams":  # a string of tokens is quicker to send and parse than a list
                parts.append(
                    "w_document_grams AS (INSERT INTO document_grams (document_id, grams, subject_grams, parties_grams) "
                    "SELECT document_id, string_to_array(grams, ' '), string_to_array(subject_grams, ' '), "
                    "string_to_array(parties_grams, ' ') FROM jsonb_to_recordset(CAST(:document_grams AS jsonb)) "
                    "AS v(document_id integer, grams text, subject_grams text, parties_grams text))"
                )
            else:
                parts.append(
                    f"w_{table} AS (INSERT INTO {table} ({cols}) SELECT {cols} "
                    f"FROM jsonb_populate_recordset(NULL::{table}, CAST(:{table} AS jsonb)))"
                )
            params[table] = json.dumps(batch, default=_json_value, ensure_ascii=False)
        if rows.tables.get("files_update"):
            names = [n for n in rows.tables["files_update"][0] if n != "id"]
            parts.append(
                f"w_files_update AS (UPDATE files SET {', '.join(f'{n} = v.{n}' for n in names)} "
                "FROM jsonb_populate_recordset(NULL::files, CAST(:files_update AS jsonb)) AS v WHERE files.id = v.id)"
            )
            params["files_update"] = json.dumps(rows.tables["files_update"], default=_json_value, ensure_ascii=False)
        if rows.resolves:
            parts.append(
                "w_resolve AS (UPDATE citations SET cited_id = v.id "
                "FROM jsonb_to_recordset(CAST(:resolves AS jsonb)) AS v(key text, id integer) "
                "WHERE citations.doc_number_key = v.key AND citations.cited_id IS NULL AND citations.document_id <> v.id)"
            )
            params["resolves"] = json.dumps(rows.resolves, ensure_ascii=False)
        if parts:
            conn.execute(text("WITH " + ", ".join(parts) + " SELECT 1"), params)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def writer_for(archive: Archive) -> Writer:
    """The archive's writer, made once per archive (SQLite's compiles its statements once)."""
    found = archive.cache.get("store_dialect")
    if found is None:
        found = archive.cache["store_dialect"] = (
            _PostgreSQL() if archive.dialect == "postgresql" else _SQLite(archive.engine.dialect)
        )
    assert isinstance(found, Writer)
    return found
