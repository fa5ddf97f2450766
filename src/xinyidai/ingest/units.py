"""A file read as units of work: the one place ingest commits as it reads.

A file is read into its batch a chunk at a time (``service.run_file``), and each chunk is
its own unit of work: the first opens or takes up the batch and claims it for this process,
each next one stores a chunk and marks how far the batch got, the last closes it. However
the reading stops, what the committed chunks stored stays, the batch says where it
stopped, and the same file sent again goes on from there (``service.open_file_batch``). The
services only add and flush, and call the hook they are given between chunks; the callers
that read files outside a request — the ``ingest.file`` job and ``xyd ingest``'s runner
(``ingest.folder``) — go through ``read_file``, which commits in that hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from xinyidai.core.db import commit, new_session, session_scope
from xinyidai.ingest import service
from xinyidai.ingest.models import Batch
from xinyidai.ingest.pipeline import Reader

log = logging.getLogger(__name__)

# Finds or opens the batch a file is read into, in the first unit of work.
BatchOpener = Callable[[Session], Batch]


def read_file(
    path: Path,
    *,
    batch: BatchOpener,
    on_commit: Callable[[Batch], None] | None = None,
    keep_going: bool = False,
    reader: Reader | None = None,
) -> dict[str, Any]:
    """Read ``path`` into the batch that ``batch`` finds or opens, in a session of its own,
    committing once the batch is claimed and after every chunk; the batch's ``summary``.

    ``on_commit`` is told of the batch after every commit. An error before the batch is in
    the database (an unknown category) is raised with nothing kept. However the reading
    stops after that, the batch is failed with the reason in a unit of work of its own
    (``service.fail_on_error``), and the error raised; with ``keep_going`` an ``Exception``
    is logged and the failed batch's summary returned instead (an interrupt is always
    raised once recorded).
    """
    session = new_session()
    batch_id: str | None = None

    def committed(chunked: Batch) -> None:
        commit(session)
        if on_commit is not None:
            on_commit(chunked)

    try:
        batch_id = batch(session).id
        read = service.run_file(
            session, batch_id=batch_id, path=path, on_chunk=committed, reader=reader
        )
        committed(read)
        return service.summary(read)
    except BaseException as exc:
        session.rollback()
        if batch_id is None or session.get(Batch, batch_id) is None:
            raise  # refused before a batch was committed
        log.exception("ingest of %s stopped", path)
        with session_scope() as unit:
            line = service.summary(service.fail_on_error(unit, batch_id=batch_id, error=exc))
        if keep_going and isinstance(exc, Exception):
            return line
        raise
    finally:
        session.close()
