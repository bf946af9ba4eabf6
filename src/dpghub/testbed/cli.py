"""`dpghub testbed validate` and `dpghub testbed verify-report`: contract validation from a
terminal (a CI step, say), and checking a report someone hands you."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..catalog import service as catalog
from ..core.errors import Invalid
from ..core.netcheck import NetworkPolicy, check_upstream
from ..core.security import load_signing_key
from ..gateway.credentials import KEY_ID
from . import contract

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer, hub_context) -> None:  # type: ignore[no-untyped-def]
    testbed_app = typer.Typer(help="The testbed: contract validation and its reports.",
                              no_args_is_help=True)
    app.add_typer(testbed_app, name="testbed")

    @testbed_app.command("validate")
    def validate(
        service: Annotated[str, typer.Argument(help="The service, as ORG/SLUG.")],
        url: Annotated[str | None, typer.Option(help="The server to check (default: the "
                                                "service's registered upstream).")] = None,
        max_cases: Annotated[int, typer.Option(help="Generated cases per operation "
                                               "(1–200).")] = 20,
        header: Annotated[list[str] | None, typer.Option(
            help="A header sent with every case, NAME:VALUE (a test credential); repeat.")
        ] = None,
        report: Annotated[Path | None, typer.Option(
            help="Write the signed report (JSON) here.")] = None,
        junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    ) -> None:
        """Validate a server against a service's OpenAPI document, with a progress bar; exit 1
        when it does not pass. Each failure is printed with a curl that shows it again."""
        if "/" not in service:
            raise Invalid("Name the service as ORG/SLUG", code="invalid_service",
                          field="service")
        org, slug = service.split("/", 1)
        headers = dict(_header(h) for h in header or [])
        with hub_context() as (settings, session, _factory):
            found = catalog.get_service(session, org, slug)
            document, target = found.openapi, (url or found.upstream_url).rstrip("/")
        check_upstream(target, NetworkPolicy(settings.gateway_allowed_networks))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task(f"{service} @ {target}", total=None)
            result = contract.run(document, target, headers=headers, max_cases=max_cases,
                                  progress=lambda done, total: bar.update(
                                      task, completed=done, total=total))
        for failure in result.failures:
            out.print(f"[red]✗[/red] {failure.operation} · {failure.check}: {failure.message}")
            out.print(f"    {failure.curl}", highlight=False)
        for error in result.errors:
            out.print(f"[yellow]![/yellow] {error.operation or '-'} · {error.kind}: "
                      f"{error.message}")
        counts = result.counts
        out.print(f"{'PASSED' if result.passed else 'FAILED'}: {counts['operations']} "
                  f"operations, {counts['cases']} cases, {counts['failures']} failures, "
                  f"{counts['errors']} errors")
        if report is not None:
            signed = contract.sign({"kind": "dpghub.contract-validation", "service": service,
                                    "url": target, "hub": settings.base_url,
                                    **result.to_dict()},
                                   load_signing_key(settings.home), KEY_ID)
            report.write_text(json.dumps(signed, ensure_ascii=False, indent=2))
        if junit is not None:
            junit.write_text(contract.junit_xml(result, service))
        if not result.passed:
            raise typer.Exit(1)

    @testbed_app.command("verify-report")
    def verify_report(
        file: Annotated[Path, typer.Argument(help="A signed validation report (JSON).")],
    ) -> None:
        """Check that a validation report was signed by this hub's key and is unchanged."""
        try:
            envelope = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise Invalid("{file} is not a readable JSON report: {reason}",
                          code="invalid_report", field="FILE", file=str(file),
                          reason=str(exc)) from None
        with hub_context() as (settings, _session, _factory):
            key = load_signing_key(settings.home)
        contract.verify(envelope, key.public_key())
        body = envelope["report"]
        verdict = "passed" if body.get("passed") else "did not pass"
        out.print(f"Signature valid: {body.get('service')} at {body.get('url')} {verdict} "
                  f"(signed {body.get('signed_at') or body.get('finished_at')}).")


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise Invalid("--header takes NAME:VALUE, not {text}", code="invalid_header",
                      field="--header", text=text)
    return name.strip(), value.strip()
