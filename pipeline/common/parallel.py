"""Work spread over threads, each with its own DuckDB cursor: DuckDB releases the GIL while it runs a
statement, so two cores do twice the work (checks, exports, loading the validated tables)."""

from __future__ import annotations

import threading


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

    return _all(run, tasks)


def _all(function, items: list) -> list:
    """function(item) for each item, each in its own thread; the results in order, or the first item's
    exception (in the order of the items) once every thread has ended."""
    results: list = [None] * len(items)
    errors: list = [None] * len(items)

    def work(number):
        try:
            results[number] = function(items[number])
        except BaseException as error:  # raised in the caller's thread
            errors[number] = error

    threads = [threading.Thread(target=work, args=(number,)) for number in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results
