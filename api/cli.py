"""The `tutor` command: run the service (`up`, `api`, `worker`), manage the database (`db ...`) and indexes (`reindex`)."""

from __future__ import annotations

from pathlib import Path

import typer

from tutor.settings import Settings

app = typer.Typer(help="AI Tutor: courses from PDFs, a grounded streaming tutor chat.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations (the configured database, or the embedded one).")
app.add_typer(db_app, name="db")
lti_app = typer.Typer(help="LTI 1.3: the LMSs (platforms) this tutor trusts.", no_args_is_help=True)
app.add_typer(lti_app, name="lti")


def _settings() -> Settings:
    return Settings()


@app.command()
def up() -> None:
    """Start everything on this machine: embedded PostgreSQL and Redis (unless configured), migrations,
    the API and a worker. Ctrl-C stops it all."""
    from api.supervisor import run_up

    raise typer.Exit(run_up(_settings()))


@app.command()
def api(
    host: str | None = typer.Option(None, help="Default: TUTOR_HOST"),
    port: int | None = typer.Option(None, help="Default: TUTOR_PORT"),
) -> None:
    """Run the API server (needs TUTOR_DATABASE_URL and TUTOR_REDIS_URL)."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=settings.api_workers,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
        # uvicorn's default (5 s) is shorter than a student's pause between questions: the connection a client
        # reuses could be closed under it as it sends (a dropped request), and behind a load balancer with a longer
        # idle timeout that is a 502.
        timeout_keep_alive=settings.api_keep_alive_s,
    )


@app.command()
def worker(
    concurrency: int | None = typer.Option(None, help="Default: TUTOR_WORKER_CONCURRENCY"),
    name: str | None = typer.Option(None, help="Node name, unique per worker; default tutor-<pid>@<host>"),
) -> None:
    """Run a Celery worker for ingestion jobs (needs TUTOR_DATABASE_URL and TUTOR_REDIS_URL)."""
    from ingestion.liveness import default_worker_name
    from ingestion.worker import app as celery_app

    settings = _settings()
    processes = concurrency or settings.worker_concurrency
    celery_app.worker_main(
        [
            "worker",
            "--hostname",
            name or default_worker_name(),
            "--queues",
            settings.celery_queue,
            # One process does one job at a time: the solo pool saves the prefork parent (~200 MB resident).
            "--pool",
            "solo" if processes == 1 else "prefork",
            "--concurrency",
            str(processes),
            "--loglevel",
            settings.log_level.upper(),
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command()
def ingest(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="PDF files"),
    title: str | None = typer.Option(None, help="Title of a new course"),
    description: str | None = typer.Option(None),
    course_id: int | None = typer.Option(None, help="Add the files to this course instead"),
    api_url: str | None = typer.Option(None, "--api", help="Default: http://TUTOR_HOST:TUTOR_PORT"),
    token: str | None = typer.Option(None, envvar="TUTOR_TOKEN", help="Bearer token; default a local teacher's"),
    timeout: float = typer.Option(3600, help="Seconds to wait for the job"),
) -> None:
    """Upload PDFs to the running service and follow the ingestion job with a progress bar."""
    from api.ingest_client import run_ingest

    settings = _settings()
    if token is None:
        from tutor.identity import mint_token

        token = mint_token(settings, "teacher", "teacher", ttl_s=int(timeout) + 600)
    code = run_ingest(
        api_url or f"http://{settings.host}:{settings.port}",
        token,
        files,
        title=title,
        description=description,
        course_id=course_id,
        timeout=timeout,
    )
    raise typer.Exit(code)


@app.command()
def chat(
    course_id: int = typer.Argument(..., help="The course to talk to"),
    session_id: str | None = typer.Option(None, "--session", help="Continue this session"),
    api_url: str | None = typer.Option(None, "--api", help="Default: http://TUTOR_HOST:TUTOR_PORT"),
    token: str | None = typer.Option(None, envvar="TUTOR_TOKEN", help="Bearer token; default a local student's"),
    user: str = typer.Option("student", help="With no token: the local user to chat as"),
) -> None:
    """Chat with a course's tutor in the terminal: answers stream in, citations are listed."""
    from api.chat_client import run_chat

    settings = _settings()
    if token is None:
        from tutor.identity import mint_token

        token = mint_token(settings, user, "student")
    raise typer.Exit(run_chat(api_url or f"http://{settings.host}:{settings.port}", token, course_id, session_id))


@app.command()
def reindex(
    course_id: int | None = typer.Argument(None, help="The course whose index to rebuild"),
    all_courses: bool = typer.Option(False, "--all", help="Every course with stored chunks"),
) -> None:
    """Rebuild a course's search index from the chunks stored in PostgreSQL, without re-reading its PDFs:
    after changing the embedding model, or when the index was lost or damaged."""
    from api.reindex_command import run_reindex
    from api.supervisor import database_url

    if (course_id is None) != all_courses:
        raise typer.BadParameter("give a COURSE_ID or --all")
    settings = _settings()
    with database_url(settings) as url:
        raise typer.Exit(run_reindex(settings, url, course_id))


@app.command()
def token(
    user: str = typer.Option(..., "--user", help="The user id (the token's `sub`)"),
    role: str = typer.Option("student", help="student, teacher or admin"),
    days: float = typer.Option(7, help="Days until it expires"),
) -> None:
    """Mint a bearer token signed with the local secret (development and the embedded default)."""
    from tutor.identity import ROLES, mint_token

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    typer.echo(mint_token(_settings(), user, role, ttl_s=int(days * 86400)))  # type: ignore[arg-type]


@app.command()
def backup(path: Path = typer.Argument(..., dir_okay=False, help="The archive to write (.tar.gz)")) -> None:
    """Write one archive of this deployment: database rows, uploaded files and the search index."""
    from api.backup import backup as run_backup
    from tutor.errors import TutorError

    try:
        typer.echo(f"backed up {run_backup(_settings(), path).summary()}")
    except TutorError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


@app.command()
def restore(path: Path = typer.Argument(..., dir_okay=False, help="An archive written by `tutor backup`")) -> None:
    """Restore a backup into an empty database (or data dir) and search index, then migrate it to this release."""
    from api.backup import restore as run_restore
    from tutor.errors import TutorError

    try:
        typer.echo(f"restored {run_restore(_settings(), path).summary()}")
    except TutorError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


@app.command("signin-link")
def signin_link(
    user: str = typer.Option(..., "--user", help="The user id to sign in as"),
    role: str = typer.Option("teacher", help="student, teacher or admin"),
    api_url: str | None = typer.Option(None, "--api", help="Default: http://TUTOR_HOST:TUTOR_PORT"),
) -> None:
    """Print a one-click browser sign-in link for the running service (single use, valid for minutes)."""
    import httpx

    from api.supervisor import sign_in_link
    from tutor.identity import ROLES, mint_token

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    settings = _settings()
    if settings.jwt_jwks_url:
        typer.echo("error: tokens come from your identity provider (TUTOR_JWT_JWKS_URL); sign in with it", err=True)
        raise typer.Exit(2)
    token = mint_token(settings, user, role, ttl_s=300)  # type: ignore[arg-type]
    try:
        typer.echo(sign_in_link(api_url or f"http://{settings.host}:{settings.port}", token))
    except (RuntimeError, httpx.HTTPError) as exc:
        typer.echo(f"error: {exc} (is `tutor up` running?)", err=True)
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    from api.supervisor import database_url
    from db import migrate

    with database_url(_settings()) as url:
        migrate.upgrade(url, revision)
        typer.echo(f"database at {migrate.current(url) or 'base'}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base' for an empty schema")) -> None:
    """Downgrade the schema to REVISION."""
    from api.supervisor import database_url
    from db import migrate

    with database_url(_settings()) as url:
        migrate.downgrade(url, revision)
        typer.echo(f"database at {migrate.current(url) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from api.supervisor import database_url
    from db import migrate

    with database_url(_settings()) as url:
        typer.echo(migrate.current(url) or "base")


@lti_app.command("add-platform")
def lti_add_platform(
    issuer: str = typer.Option(..., help="The LMS's issuer, e.g. https://canvas.instructure.com"),
    client_id: str = typer.Option(..., help="The client id the LMS gave this tool"),
    deployment_id: list[str] = typer.Option(..., help="A deployment id of the tool in the LMS (repeatable)"),
    jwks_url: str = typer.Option(..., help="The LMS's public keyset URL"),
    auth_login_url: str = typer.Option(..., help="The LMS's OIDC authorization endpoint"),
    token_url: str = typer.Option(..., help="The LMS's OAuth2 access token URL"),
    name: str | None = typer.Option(None, help="A name to recognise it by"),
    base_url: str | None = typer.Option(None, help="This tutor's public URL, to print the tool's URLs"),
) -> None:
    """Register an LMS; prints the URLs to enter in the LMS."""
    from api import lti_command
    from api.supervisor import database_url
    from tutor.errors import TutorError
    from tutor.lti.platforms import PlatformInput

    data = PlatformInput(issuer, client_id, jwks_url, auth_login_url, token_url, list(deployment_id), name)
    settings = _settings()
    with database_url(settings) as url:
        try:
            typer.echo(lti_command.add(url, data))
        except TutorError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from None
    typer.echo("\n".join(lti_command.tool_urls(base_url or settings.resolved_public_url)))


@lti_app.command("list")
def lti_list() -> None:
    """The registered LMSs: id, issuer, client id, deployment ids, name."""
    from api import lti_command
    from api.supervisor import database_url

    with database_url(_settings()) as url:
        lines = lti_command.listing(url)
    typer.echo("\n".join(lines) if lines else "no LMS registered (tutor lti add-platform ...)")


@lti_app.command("remove")
def lti_remove(platform_id: int = typer.Argument(..., help="The id `tutor lti list` shows")) -> None:
    """Unregister an LMS: its launches stop working at once; its users and their work stay."""
    from api import lti_command
    from api.supervisor import database_url
    from tutor.errors import TutorError

    with database_url(_settings()) as url:
        try:
            lti_command.remove(url, platform_id)
        except TutorError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"platform {platform_id} removed")


def main() -> None:
    app(prog_name="tutor")


if __name__ == "__main__":
    main()
