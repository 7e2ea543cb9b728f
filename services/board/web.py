"""The board's web pages: a team's board and its fidelity figures, rendered on the server from the
frozen rows in services/board/view.py, for signed-in staff of the team's own Trust only.

Every path but /healthz and the sign-in pages needs a session (the check is a middleware, so a
route added later is closed until someone opens it on purpose); a team of another Trust answers
403 before the reader is asked, so its rows are neither fetched nor audited as viewed.
"""

import csv
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
import structlog
from authlib.integrations.base_client import OAuthError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import Trust
from contracts.consent import TEAM_PATTERN
from services.board.signin import USERNAME, Attempts, OidcSettings, User, Users, user_from_claims
from services.board.view import Board, Fidelity, Figure
from shared.runtime.clock import Clock

log = structlog.get_logger()

TEMPLATES = Path(__file__).parent / "templates"
TEAM = re.compile(TEAM_PATTERN)
WEEK = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MIN_SECRET = 32
WRONG = "Wrong username or password."
LOCKED = "Too many failed sign-ins for this username. Try again in a few minutes."
EXPIRED_FORM = "This form had expired. Please try again."

TRUST_WORDS = {Trust.BELFAST: "Belfast", Trust.NORTHERN: "Northern", Trust.SOUTH_EASTERN: "South Eastern",
               Trust.SOUTHERN: "Southern", Trust.WESTERN: "Western"}
TEAM_KIND_WORDS = {"htcr": "Home Treatment and Crisis Response", "cmht": "Community Mental Health Team", "ward": "Ward",
                   "recovery-team": "Recovery Team"}
SECURITY_HEADERS = {
    # Inline styles only: the pages carry their CSS in the base template and run no script at all.
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "script-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    # Every page but /healthz shows patients or a sign-in token: none may be kept by a shared ward PC's browser.
    "cache-control": "no-store",
}


class BoardReader(Protocol):
    async def board(self, team: str, viewer: str) -> Board: ...

    async def fidelity(self, team: str, week: date) -> Fidelity: ...


@dataclass(frozen=True)
class WebSettings:
    """What the web pages need, built by the service's wiring function from its settings."""

    session_secret: str = field(repr=False)  # signs the session cookie: at least 32 random characters
    https_only: bool = True  # the session cookie is sent over HTTPS only (False only for local use)
    session_max_age: timedelta = timedelta(hours=12)  # a sign-in lasts one shift, however active
    board_kinds: tuple[str, ...] = ("htcr",)  # which of a Trust's teams have a board
    timezone: str = "Europe/London"  # where "this week" starts
    sign_in_limit: int = 5  # failed sign-ins before a username is locked
    sign_in_lock: timedelta = timedelta(minutes=5)
    oidc: OidcSettings | None = None

    def __post_init__(self) -> None:
        if len(self.session_secret) < MIN_SECRET:
            raise ValueError(f"the board's session secret must be at least {MIN_SECRET} characters")


def create_app(reader: BoardReader, users: Users, settings: WebSettings, clock: Clock) -> Starlette:
    """The board's web application. Nothing connects here: the reader is already wired."""
    pages = _Pages(reader, users, settings, clock)
    open_paths = {"/healthz", "/sign-in"} | ({"/oidc/login", "/oidc/callback"} if settings.oidc else set())
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=settings.session_secret, session_cookie="carepath_board",
                   max_age=int(settings.session_max_age.total_seconds()), same_site="lax", https_only=settings.https_only),
        Middleware(RequireSignIn, open_paths=frozenset(open_paths), clock=clock, max_age=settings.session_max_age),
    ]
    return Starlette(routes=pages.routes(), middleware=middleware,
                     exception_handlers={HTTPException: pages.problem, OtherTrust: pages.other_trust})


# --- The pages ----------------------------------------------------------------------------------

class OtherTrust(Exception):
    def __init__(self, team: str, trust: Trust) -> None:
        super().__init__(team)
        self.team, self.trust = team, trust


class _Pages:
    def __init__(self, reader: BoardReader, users: Users, settings: WebSettings, clock: Clock) -> None:
        self.reader, self.users, self.settings, self.clock = reader, users, settings, clock
        self.tz = ZoneInfo(settings.timezone)
        self.attempts = Attempts(clock, settings.sign_in_limit, settings.sign_in_lock)
        self.templates = _templates()
        self.oauth = _oauth(settings.oidc) if settings.oidc else None

    def routes(self) -> list[Route]:
        routes = [
            Route("/healthz", self.healthz),
            Route("/", self.home),
            Route("/teams/{team}", self.board),
            Route("/teams/{team}/fidelity", self.fidelity),
            Route("/teams/{team}/fidelity.csv", self.fidelity_csv),
            Route("/teams/{team}/fidelity/{key}", self.figure),
            Route("/sign-in", self.sign_in_form, methods=["GET"]),
            Route("/sign-in", self.sign_in, methods=["POST"]),
            Route("/sign-out", self.sign_out, methods=["POST"]),
        ]
        if self.oauth is not None:
            routes += [Route("/oidc/login", self.oidc_login), Route("/oidc/callback", self.oidc_callback, name="oidc_callback")]
        return routes

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def home(self, request: Request) -> Response:
        user: User = request.state.user
        teams = [f"{kind}:{user.trust.value}" for kind in self.settings.board_kinds]
        if len(teams) == 1:
            return RedirectResponse(f"/teams/{teams[0]}", status_code=303)
        return self.render(request, "teams.html", trust=user.trust, teams=teams)

    async def board(self, request: Request) -> Response:
        team = self.team_of(request)
        board = await self.reader.board(team, request.state.user.username)
        return self.render(request, "board.html", team=team, board=board, **board_sections(board))

    async def fidelity(self, request: Request) -> Response:
        team, week = self.team_of(request), self.week_of(request)
        fidelity = await self.reader.fidelity(team, week)
        return self.render(request, "fidelity.html", team=team, fidelity=fidelity, bars=chart(fidelity.figures),
                           weeks=self.weeks_around(week))

    async def fidelity_csv(self, request: Request) -> Response:
        team, week = self.team_of(request), self.week_of(request)
        fidelity = await self.reader.fidelity(team, week)
        filename = f"fidelity-{team.replace(':', '-')}-{week.isoformat()}.csv"
        return Response(fidelity_csv(fidelity), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{filename}"'})

    async def figure(self, request: Request) -> Response:
        team, week = self.team_of(request), self.week_of(request)
        fidelity = await self.reader.fidelity(team, week)
        figure = next((f for f in fidelity.figures if f.key == request.path_params["key"]), None)
        if figure is None:
            raise HTTPException(404, "There is no such figure.")
        short = set(figure.short)
        episodes = [e for e in figure.episodes if e in short] + [e for e in figure.episodes if e not in short]
        return self.render(request, "figure.html", team=team, fidelity=fidelity, figure=figure, episodes=episodes,
                           short=short)

    # --- Signing in and out ---

    async def sign_in_form(self, request: Request) -> Response:
        goto = safe_next(request.query_params.get("next"))
        if signed_in(request.session, self.clock, self.settings.session_max_age):
            return RedirectResponse(goto, status_code=303)
        return self.sign_in_page(request, goto)

    async def sign_in(self, request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        goto = safe_next(str(form.get("next", "")))
        if not csrf_matches(request.session, form.get("csrf")):
            return self.sign_in_page(request, goto, EXPIRED_FORM, 400)
        if self.attempts.locked(username):
            log.warning("sign-in refused: username locked", username=loggable(username))
            return self.sign_in_page(request, goto, LOCKED, 429)
        user = await run_in_threadpool(self.users.check, username, password)  # argon2 takes tens of ms: not on the loop
        if user is None:
            self.attempts.failed(username)
            log.warning("sign-in refused", username=loggable(username))
            return self.sign_in_page(request, goto, WRONG, 401)
        self.attempts.succeeded(username)
        return self.start_session(request, user, goto, "password")

    async def sign_out(self, request: Request) -> Response:
        form = await request.form()
        if not csrf_matches(request.session, form.get("csrf")):
            raise HTTPException(403, "The sign-out form had expired. Reload the page and sign out again.")
        log.info("signed out", username=request.state.user.username)
        request.session.clear()
        return RedirectResponse("/sign-in", status_code=303)

    async def oidc_login(self, request: Request) -> Response:
        assert self.oauth is not None and self.settings.oidc is not None
        request.session["next"] = safe_next(request.query_params.get("next"))
        callback = self.settings.oidc.redirect_url or str(request.url_for("oidc_callback"))
        return await self.oauth.trust.authorize_redirect(request, callback)

    async def oidc_callback(self, request: Request) -> Response:
        assert self.oauth is not None and self.settings.oidc is not None
        try:
            claims = await self.claims_of(await self.oauth.trust.authorize_access_token(request))
        except OAuthError as error:
            log.warning("identity provider sign-in failed", error=error.error)
            raise HTTPException(400, "Signing in with your Trust's account did not finish. Please try again.")
        user = user_from_claims(claims, self.settings.oidc)
        if user is None:
            log.warning("identity provider named no Trust", username=loggable(str(claims.get("sub", ""))))
            raise HTTPException(403, "Your account does not say which Trust you work for, so there is no team to show you.")
        return self.start_session(request, user, safe_next(request.session.get("next")), "oidc")

    async def claims_of(self, token: dict[str, Any]) -> dict[str, Any]:
        """What the identity provider says of the user: the ID token's claims, and its userinfo
        endpoint's when the ID token does not say enough (some put the Trust only there)."""
        assert self.oauth is not None and self.settings.oidc is not None
        claims = dict(token.get("userinfo") or {})
        metadata = await self.oauth.trust.load_server_metadata()
        if user_from_claims(claims, self.settings.oidc) is None and metadata.get("userinfo_endpoint"):
            claims |= dict(await self.oauth.trust.userinfo(token=token))
        return claims

    def start_session(self, request: Request, user: User, goto: str, via: str) -> Response:
        # A fresh session at sign-in: nothing from before it (state, an earlier token) carries over.
        request.session.clear()
        request.session.update(user=user.username, trust=user.trust.value, since=self.clock.now().timestamp(),
                               csrf=secrets.token_urlsafe(32))
        log.info("signed in", username=user.username, trust=user.trust.value, via=via)
        return RedirectResponse(goto, status_code=303)

    def sign_in_page(self, request: Request, goto: str, error: str | None = None, status: int = 200) -> Response:
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return self.render(request, "sign_in.html", status, next=goto, error=error, password=self.users.enabled,
                           oidc=self.oauth is not None, oidc_login="/oidc/login?" + urlencode({"next": goto}))

    # --- Helpers of the pages ---

    def team_of(self, request: Request) -> str:
        """The team in the path, if the user may see it: another Trust's team is refused outright."""
        team = request.path_params["team"]
        match = TEAM.fullmatch(team)
        if match is None:
            raise HTTPException(404, "There is no such team.")
        user: User = request.state.user
        if Trust(match.group(2)) != user.trust:
            log.warning("another Trust's team refused", username=user.username, team=team)
            raise OtherTrust(team, Trust(match.group(2)))
        if match.group(1) not in self.settings.board_kinds:
            raise HTTPException(404, "This team has no board.")
        return team

    def week_of(self, request: Request) -> date:
        """The Monday of the week asked for (any day of it will do), or of this week in the team's time zone."""
        asked = request.query_params.get("week")
        if asked is None:
            return monday_of(self.clock.now().astimezone(self.tz).date())
        try:
            if not WEEK.fullmatch(asked):
                raise ValueError(asked)
            return monday_of(date.fromisoformat(asked))
        except ValueError:
            raise HTTPException(400, "A week is written as a date, YYYY-MM-DD.") from None

    def weeks_around(self, week: date) -> dict[str, date | None]:
        this_week = monday_of(self.clock.now().astimezone(self.tz).date())
        later = week + timedelta(days=7)
        return {"previous": week - timedelta(days=7), "next": later if later <= this_week else None,
                "this": this_week if week != this_week else None}

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        page = {"user": getattr(request.state, "user", None), "csrf": request.session.get("csrf", ""), "team": None, **context}
        return self.templates.TemplateResponse(request, name, page, status_code=status)

    async def problem(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return self.render(request, "problem.html", error.status_code, message=error.detail)

    async def other_trust(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, OtherTrust)
        return self.render(request, "forbidden.html", 403, asked=error.team, asked_trust=error.trust)


# --- Signed in or not -------------------------------------------------------------------------------

class RequireSignIn:
    """Every path not opened on purpose needs a live session: without one, a GET is sent to the
    sign-in page and back afterwards, anything else to the sign-in page alone."""

    def __init__(self, app: ASGIApp, open_paths: frozenset[str], clock: Clock, max_age: timedelta) -> None:
        self.app, self.open_paths, self.clock, self.max_age = app, open_paths, clock, max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        user = signed_in(scope["session"], self.clock, self.max_age)
        if user is None:
            await RedirectResponse(sign_in_url(Request(scope)), status_code=303)(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)


def signed_in(session: dict[str, Any], clock: Clock, max_age: timedelta) -> User | None:
    """The session's user, unless it has outlived its shift (the cookie's own age restarts each
    time the session changes, so the sign-in time is kept and checked as well)."""
    if "user" not in session:
        return None
    if clock.now().timestamp() - float(session.get("since", 0)) > max_age.total_seconds():
        session.clear()
        return None
    return User(session["user"], Trust(session["trust"]))


def sign_in_url(request: Request) -> str:
    if request.method not in ("GET", "HEAD"):
        return "/sign-in"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in?" + urlencode({"next": here})


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another site's address."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) or urlsplit(value).netloc or urlsplit(value).scheme:
        return "/"
    if value.startswith(("/sign-in", "/sign-out", "/oidc/")):
        return "/"
    return value


def csrf_matches(session: dict[str, Any], sent: object) -> bool:
    expected = session.get("csrf")
    return isinstance(sent, str) and isinstance(expected, str) and secrets.compare_digest(sent, expected)


def loggable(username: str) -> str:
    # What someone typed as a username may be anything (even their password): log only what could be one.
    return username if USERNAME.fullmatch(username) else "(not a username)"


class SecurityHeaders:
    """The headers every response carries: no framing, no referrer, no caching, no script."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present)]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


# --- What the pages show, pure ----------------------------------------------------------------------

Row = TypeVar("Row")


def first(rows: Iterable[Row], flag: str) -> list[Row]:
    """The rows with `flag` set first, each group in the reader's order."""
    return sorted(rows, key=lambda row: not getattr(row, flag))


def board_sections(board: Board) -> dict[str, list[Any]]:
    """The board's lists in the order the page shows them, those needing action at the top of each."""
    return {"waiting": first(board.waiting, "breached"), "today": first(board.today, "needs_action"),
            "tomorrow": first(board.tomorrow, "needs_action"), "follow_ups": first(board.follow_ups, "overdue"),
            "discharges": list(board.discharges), "carers": first(board.carers, "needs_action"),
            "below_plan": list(board.below_plan), "withheld": list(board.withheld)}


def chart(figures: Sequence[Figure]) -> list[tuple[Figure, float | None]]:
    """Each figure with the length of its bar (0..1): a share against 100 %, a mean against the
    largest mean shown; None when there was nothing to count."""
    largest = max((f.value for f in figures if not f.is_share and f.value is not None), default=0.0)
    bars: list[tuple[Figure, float | None]] = []
    for figure in figures:
        if figure.value is None:
            bars.append((figure, None))
        elif figure.is_share:
            bars.append((figure, min(max(figure.value, 0.0), 1.0)))
        else:
            bars.append((figure, figure.value / largest if largest > 0 else 0.0))
    return bars


CSV_COLUMNS = ("key", "measures", "value", "shown", "counted", "episodes", "short")


def fidelity_csv(fidelity: Fidelity) -> str:
    """The figures as CSV, one row each: the value unrounded (empty when nothing was counted), and
    how many episodes were counted and how many fell short."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in fidelity.figures:
        writer.writerow([f.key, f.measures, "" if f.value is None else repr(f.value), f.shown, f.counted, len(f.episodes),
                         len(f.short)])
    return out.getvalue()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def team_words(team: str) -> str:
    """"htcr:belfast" as a team lead says it: "Home Treatment and Crisis Response, Belfast"."""
    kind, trust = team.split(":", 1)
    return f"{TEAM_KIND_WORDS.get(kind, kind)}, {TRUST_WORDS[Trust(trust)]}"


def day_words(day: date | datetime) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(team_words=team_words, trust_words=lambda trust: f"{TRUST_WORDS[Trust(trust)]} Trust",
                       day_words=day_words)
    return Jinja2Templates(env=env)


# authlib is imported only when a board signs in through an identity provider: most boards do
# not, and its import is slow and warns about its own httpx support.

def _oauth(oidc: OidcSettings) -> Any:
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register("trust", server_metadata_url=oidc.metadata_url, client_id=oidc.client_id,
                   client_secret=oidc.client_secret, client_kwargs={"scope": oidc.scope})
    return oauth
