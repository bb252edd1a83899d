"""Work spread over threads, each with its own DuckDB cursor: DuckDB releases the GIL while it runs a
statement, so two cores do twice the work (checks, exports, loading the validated tables)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def in_threads(con, tasks: list) -> list:
    """Run each task (a function of a cursor) in its own thread on its own cursor of `con`, each cursor
    on the same default database as `con`; DuckDB releases the GIL, so two cores do twice the work."""
    (database,) = con.execute("SELECT current_database()").fetchone()

    def run(task):
        cursor = con.cursor()
        try:
            cursor.execute(f"USE {database}")
            return task(cursor)
        finally:
            cursor.close()

    if not tasks:
        return []
    with ThreadPoolExecutor(len(tasks)) as pool:  # its exit waits for every thread, an interrupt too
        return list(pool.map(run, tasks))
