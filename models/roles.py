"""A PostgreSQL login role for analysts that can read every chiso table and view and change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from models.db import DatabaseError


@dataclass(frozen=True)
class ReaderGrant:
    """What grant_reader did: the role, whether it was new, and the schema it can read."""

    role: str
    created: bool
    schema: str
    tables: int


def grant_reader(engine: Engine, *, role: str, password: str) -> ReaderGrant:
    """Create or update `role` as a LOGIN role with SELECT on every table and view of chiso's schema.

    Idempotent: a second call sets the new password and the same privileges. Anything the role could do
    beyond reading (write grants from earlier, CREATE on the schema) is revoked or refused. Default
    privileges make tables and views that later migrations create (as the same owner) readable as well.
    """
    from psycopg import sql

    if engine.dialect.name != "postgresql":
        raise DatabaseError("grant-reader needs PostgreSQL")
    if not role or not password:
        raise DatabaseError("grant-reader needs a role name and a non-empty password")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        owner, schema, database = _one(cursor, "SELECT current_user, current_schema(), current_database()")
        if role == owner:
            raise DatabaseError(f"role {role!r} is the one chiso connects as: choose another name")
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", (role,))
        found = cursor.fetchone()
        if found is not None and found[0]:
            raise DatabaseError(f"role {role!r} is a superuser or bypasses row security: not a reader")
        ident, schema_ident = sql.Identifier(role), sql.Identifier(schema)
        # The password is a literal: CREATE/ALTER ROLE take no bind parameters (psycopg quotes it).
        verb = sql.SQL("ALTER") if found is not None else sql.SQL("CREATE")
        statements = [
            sql.SQL("{} ROLE {} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                verb, ident, sql.Literal(password)
            ),
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident),
            sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema_ident, ident),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_ident, ident),
            # Writes granted earlier (by hand, or another tool) go: the role ends with SELECT only.
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema_ident, ident),
            sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema_ident, ident),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema_ident, ident),
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                sql.Identifier(owner), schema_ident, ident
            ),
        ]
        for statement in statements:
            cursor.execute(statement)
        # PostgreSQL before 15 lets PUBLIC create in schema public: a grant to everyone we do not revoke.
        if _one(cursor, "SELECT has_schema_privilege(%s, %s, 'CREATE')", (role, schema))[0]:
            raise DatabaseError(
                f"role {role!r} could still create tables in schema {schema} (granted to PUBLIC): "
                f"run REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, then grant-reader again"
            )
        count = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        count += "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p')"
        tables = int(_one(cursor, count, (schema,))[0])
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    return ReaderGrant(role=role, created=found is None, schema=schema, tables=tables)


def _one(cursor: Any, query: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    cursor.execute(query, params)
    row = cursor.fetchone()
    if row is None:
        raise DatabaseError(f"no row from {query!r}")
    return tuple(row)
