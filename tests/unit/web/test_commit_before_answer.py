"""A request's commit happens before its answer: a failed commit is never reported as success."""

from __future__ import annotations

from typing import Any

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


def app_making(kind: type[Any]) -> tuple[FastAPI, list[Any]]:
    """An app whose requests get sessions of `kind`, and the list of those made."""
    sessions: list[Any] = []
    app = FastAPI()

    def factory() -> Any:
        sessions.append(kind())
        return sessions[-1]

    app.state.session_factory = factory
    return app, sessions


def test_a_failed_commit_is_an_error_answer() -> None:
    app, sessions = app_making(FailingSession)

    @app.post("/change")
    def change(session: DbSession) -> dict[str, bool]:
        return {"stored": True}

    answer = TestClient(app, raise_server_exceptions=False).post("/change")
    assert answer.status_code == 500
    assert "stored" not in answer.text
    assert sessions[0].rolled_back


class TracingSession:
    """Records what the request did with its session, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.info: dict[str, object] = {}

    def commit(self) -> None:
        self.calls.append("commit")

    def rollback(self) -> None:
        self.calls.append("rollback")

    def close(self) -> None:
        self.calls.append("close")


def test_a_session_is_committed_or_rolled_back_then_closed_once() -> None:
    app, sessions = app_making(TracingSession)

    @app.post("/ok")
    def ok(session: DbSession) -> dict[str, bool]:
        return {"stored": True}

    @app.post("/fails")
    def fails(session: DbSession) -> dict[str, bool]:
        raise ValueError("the route broke")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.post("/ok").json() == {"stored": True}
    assert client.post("/fails").status_code == 500
    assert [s.calls for s in sessions] == [["commit", "close"], ["rollback", "close"]]
