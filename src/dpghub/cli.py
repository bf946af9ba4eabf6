"""The `dpghub` command line. Thin: builds settings, calls services; errors end in one line
and an exit code (`cli_errors`: every command runs inside `HubCommands`).

No command ever waits for input: what is not given is generated (and printed) or refused.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from .cli_errors import HubCommands
from .config import Settings
from .core import audit
from .core.db import is_migrated, make_engine, make_session_factory, migrate, transaction
from .core.netcheck import NetworkPolicy
from .core.security import generate_password, load_signing_key
from .gateway import chain as gateway_chain
from .identity import schemas, service
from .identity.models import OrgKind, Role, Scope, User
from .identity.policy import CLI
from .job_kinds import register_jobs

app = typer.Typer(help="DPG Hub (디지털플랫폼정부 허브) command line.", no_args_is_help=True,
                  add_completion=False, cls=HubCommands)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DEFAULT_ADMIN = "admin@dpghub.kr"


@contextmanager
def hub_session(*, require_init: bool = True) -> Iterator[tuple[Settings, Session]]:
    with hub_context(require_init=require_init) as (settings, session, _factory):
        yield settings, session


@contextmanager
def hub_context(*, require_init: bool = True):  # type: ignore[no-untyped-def]
    """A session committed on success, rolled back when the command fails. Every job kind is
    registered first: `dpghub worker`, `dpghub ingest` and the demo loader run jobs here."""
    register_jobs()
    settings = Settings().prepare()
    engine = make_engine(settings.database_url or "")
    try:
        if require_init and not is_migrated(engine):
            err.print("[red]The hub is not initialised: run `dpghub init` first.[/red]")
            raise typer.Exit(1)
        factory = make_session_factory(engine)
        factory.configure(info={audit.SIGNING_KEY_INFO: load_signing_key(settings.home)})
        with transaction(factory) as session:
            yield settings, session, factory
    finally:
        engine.dispose()


@app.command()
def init(
    admin_email: Annotated[str, typer.Option(help="E-mail of the first operator.")] = DEFAULT_ADMIN,
    admin_password: Annotated[str | None, typer.Option(
        help="Password of the first operator; generated and printed when absent.")] = None,
    demo: Annotated[bool, typer.Option(help="Also load sample organizations and real Korean "
                                       "public data.")] = False,
    demo_data: Annotated[Path | None, typer.Option(
        help="Folder of sample files (default: ../shared/data/kr when present, else the code "
        "tables PublicDataReader ships).")] = None,
) -> None:
    """Create or upgrade the database, and create the first platform operator."""
    settings = Settings().prepare()
    engine = make_engine(settings.database_url or "")
    migrate(engine)
    engine.dispose()
    out.print(f"Database ready: {_safe_url(settings.database_url or '')}")
    with hub_session() as (settings, session):
        from sqlalchemy import select

        operator = session.scalar(select(User).where(User.is_operator.is_(True)).limit(1))
        if operator is None:
            password = admin_password or generate_password()
            data = schemas.SignUp(email=admin_email, display_name="Operator", password=password,
                                  language=settings.default_language)
            service.create_user(session, actor=CLI, data=data, is_operator=True)
            out.print(f"Created operator [bold]{data.email}[/bold]")
            out.print(f"Sign in at {settings.base_url}/signin as [bold]{data.email}[/bold] "
                      f"with password [bold]{password}[/bold]")
        else:
            out.print(f"Operator {operator.email} already exists "
                      f"(`dpghub user password {operator.email}` sets a new password).")
        if demo:
            from . import demo as demo_content

            created = demo_content.load(session, actor=CLI)
            if created:
                out.print(f"Sample organizations: {', '.join(created)}")
        audit.checkpoint(session, load_signing_key(settings.home))
    if demo:
        _load_demo_data(demo_data)


def _load_demo_data(folder: Path | None) -> None:
    from . import demo as demo_content

    with hub_context() as (settings, _session, factory):
        source = folder or demo_content.default_data_dir()
        if source is not None and not source.is_dir():
            err.print(f"[red]error:[/red] {source} is not a folder")
            raise typer.Exit(2)
        out.print(f"Sample data from {source or 'PublicDataReader (PyPI)'}:")
        demo_content.load_data(settings, factory, actor=CLI, source=source, say=out.print)
        with transaction(factory) as session:
            for ref in demo_content.load_services(
                    session, actor=CLI, source=source, say=out.print,
                    networks=NetworkPolicy(settings.gateway_allowed_networks)):
                out.print(f"  {ref}: API registered")
        with transaction(factory) as session:  # embeddings computed now, not on first search
            from .catalog import search

            search.SearchIndex(semantic=settings.search_semantic).refresh(session)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(
        help="Log every HTTP request (gateway calls are recorded as evidence anyway; the log "
        "line costs a tenth of the gateway's throughput).")] = False,
) -> None:
    """Run the hub's web server (portal, API, gateway)."""
    import uvicorn

    settings = Settings().prepare()
    engine = make_engine(settings.database_url or "")
    ready = is_migrated(engine)
    engine.dispose()
    if not ready:
        err.print("[red]The hub is not initialised: run `dpghub init` first.[/red]")
        raise typer.Exit(1)
    out.print(f"DPG Hub on http://{host}:{port}  (API reference: http://{host}:{port}/api/docs)")
    from functools import partial

    from .core.serving import HeadLimits, HubHttpProtocol

    # no Server field: the hub does not advertise its software (nor, through the gateway,
    # the provider's); request heads within the limits of the settings
    protocol = partial(HubHttpProtocol, limits=HeadLimits.from_settings(settings))
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info",
                               "access_log": access_log, "http": protocol,
                               "server_header": False}
    if workers > 1:
        # a worker loads the whole hub before it answers uvicorn's health check (≈ 9 s on a
        # loaded 2-core machine, where the default 5 s restarted workers forever)
        uvicorn.run("dpghub.app:serve_app", factory=True, workers=workers,
                    timeout_worker_healthcheck=120, **options)
    else:
        from .app import serve_app

        uvicorn.run(serve_app(settings), **options)


@org_app.command("create")
def org_create(
    slug: Annotated[str, typer.Argument(help="Short name, e.g. mois.")],
    name_ko: Annotated[str, typer.Option("--name-ko", help="Korean name.")],
    name_en: Annotated[str, typer.Option("--name-en", help="English name.")],
    kind: Annotated[OrgKind, typer.Option(help="public, company, research or civic.")],
    verified: Annotated[bool, typer.Option(help="Mark verified at once.")] = False,
) -> None:
    """Create an organization."""
    with hub_session() as (_, session):
        org = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug=slug, name_ko=name_ko, name_en=name_en, kind=kind))
        if verified:
            service.verify_org(session, actor=CLI, org=org)
    out.print(f"Created organization [bold]{slug}[/bold]")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="E-mail address (the sign-in name).")],
    org: Annotated[str | None, typer.Option(help="Organization slug to join.")] = None,
    role: Annotated[Role, typer.Option(help="Role in that organization.")] = Role.member,
    password: Annotated[str | None, typer.Option(
        help="Password; generated and printed when absent.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail's "
                                             "local part).")] = None,
    operator: Annotated[bool, typer.Option(help="Make a platform operator.")] = False,
    language: Annotated[str, typer.Option(help="ko or en.")] = "ko",
) -> None:
    """Create a user, optionally as a member of an organization."""
    generated = password is None
    password = password or generate_password()
    with hub_session() as (_, session):
        data = schemas.SignUp(email=email, display_name=name or email.split("@")[0],
                          password=password, language=language)
        user = service.create_user(session, actor=CLI, data=data, is_operator=operator)
        if org:
            organization = service.get_org_by_slug(session, org)
            service.add_member(session, actor=CLI, org=organization,
                               data=schemas.MembershipCreate(email=user.email, role=role))
    out.print(f"Created user [bold]{user.email}[/bold]" + (f" ({role.value} of {org})" if org else ""))
    if generated:
        out.print(f"Password: [bold]{password}[/bold]")


@user_app.command("password")
def user_password(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    password: Annotated[str | None, typer.Option(
        help="New password; generated and printed when absent.")] = None,
) -> None:
    """Set a user's password (also lifts sign-in delays on the account and ends its web
    sign-ins)."""
    generated = password is None
    password = password or generate_password()
    with hub_session() as (_, session):
        user = service.get_user_by_email(session, email)
        service.set_password(session, actor=CLI, user=user, password=password)
    out.print(f"Password of {email} changed" + (f": [bold]{password}[/bold]" if generated else "."))


ROLE_HELP = "supporter (testbed support), key_manager (linkage salts) or reviewer (exports)."


@user_app.command("grant")
def user_grant(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    role: Annotated[str, typer.Argument(help=ROLE_HELP)],
) -> None:
    """Grant a platform role."""
    _set_role(email, role, granted=True)


@user_app.command("revoke")
def user_revoke(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    role: Annotated[str, typer.Argument(help=ROLE_HELP)],
) -> None:
    """Take a platform role back."""
    _set_role(email, role, granted=False)


@user_app.command("role")
def user_role(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    role: Annotated[str, typer.Argument(help=ROLE_HELP)],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the role back.")] = False,
) -> None:
    """Grant a platform role, or take it back with --revoke (as `grant` and `revoke`)."""
    _set_role(email, role, granted=not revoke)


def _set_role(email: str, role: str, *, granted: bool) -> None:
    with hub_session() as (_, session):
        user = service.get_user_by_email(session, email)
        service.set_platform_role(session, actor=CLI, user=user, role=role, granted=granted)
        roles = user.platform_roles or "-"
    out.print(f"Platform roles of {email}: {roles}")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="Owner of the token.")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[list[Scope] | None, typer.Option(
        help="read or write; repeat for both (default: read).")] = None,
    days: Annotated[int | None, typer.Option(help="Days until it expires (default 90; 0: "
                                             "never).")] = 90,
) -> None:
    """Create a personal API token and print it (the only time it is shown)."""
    with hub_session() as (_, session):
        user = service.get_user_by_email(session, email)
        actor = CLI
        data = schemas.TokenCreate(name=name, scopes=scope or [Scope.read],
                          expires_in_days=days or None)
        token, secret = service.create_token(session, actor=actor, user=user, data=data)
        expires = token.expires_at.date().isoformat() if token.expires_at else "never"
    err.print(f"Token '{name}' for {email}, scopes {','.join(token.scopes)}, expires {expires}:")
    out.print(secret, highlight=False, soft_wrap=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole chain and the signed checkpoints; exit 1 at the first broken entry."""
    gateway_chain.register_checks()    # the call records' events are checked too
    with hub_session() as (settings, session):
        report = audit.verify(session, load_signing_key(settings.home).public_key())
    for note in report.notes:
        out.print(f"note: {note}", highlight=False)
    if report.ok:
        out.print(f"[green]OK[/green]: {report.events} events, {report.checkpoints} signed "
                  "checkpoints, chain intact.")
        return
    err.print(f"[red]BROKEN[/red] at event {report.broken_seq}: {report.reason}")
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the current head of the chain now."""
    with hub_session() as (settings, session):
        cp = audit.checkpoint(session, load_signing_key(settings.home))
    out.print(f"Signed checkpoint at event {cp.seq}." if cp else "The head is already signed.")


from .analysis import cli as analysis_cli  # noqa: E402
from .lake import cli as lake_cli  # noqa: E402
from .testbed import cli as testbed_cli  # noqa: E402

lake_cli.register(app, hub_context)
analysis_cli.register(app, hub_context)
testbed_cli.register(app, hub_context)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
