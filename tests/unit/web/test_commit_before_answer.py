"""A request's commit happens before its answer: a failed commit is never reported as success."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dpghub.web.context import DbSession


class FailingSession:
    """Stands in for SQLAlchemy's Session where the database refuses the commit."""

    def __init__(self) -> None:
        self.rolled_back = False

    def commit(self) -> None:
        raise RuntimeError("could not serialize access")

    def rollback(self) -> None:
        self.rolled_back = True

    def close(self) -> None:
        pass


def test_a_failed_commit_is_an_error_answer() -> None:
    sessions: list[FailingSession] = []
    app = FastAPI()

    def factory() -> FailingSession:
        sessions.append(FailingSession())
        return sessions[-1]

    app.state.session_factory = factory

    @app.post("/change")
    def change(session: DbSession) -> dict[str, bool]:
        return {"stored": True}

    answer = TestClient(app, raise_server_exceptions=False).post("/change")
    assert answer.status_code == 500
    assert "stored" not in answer.text
    assert sessions[0].rolled_back
