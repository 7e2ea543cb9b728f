"""The board's web pages, with a hand-written reader: nothing is shown without signing in, a
user sees only their own Trust's teams, the board puts what needs action first and says when a
list is empty, the fidelity figures are charted and exported as they are, and sign-in resists
guessing, forged forms and redirects to other sites."""

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from contracts import Trust
from services.board.signin import Users, add_user
from services.board.view import Figure
from services.board.web import LOCKED, WRONG, WebSettings, chart, create_app, fidelity_csv, safe_next
from tests.board_fakes import NOW, WEEK, BelfastIds, FakeReader, a_fidelity, belfast_board, empty_board
from tests.fakes import FixedClock

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SECRET = "a-test-session-secret-of-forty-characters"
PASSWORDS = {"alice": "alice's long password", "nora": "nora's long password"}
BELFAST_PAGES = ["/", "/teams/htcr:belfast", "/teams/htcr:belfast/fidelity", "/teams/htcr:belfast/fidelity?week=2026-11-30",
                 "/teams/htcr:belfast/fidelity/assessed-within-4h", "/teams/htcr:belfast/fidelity.csv"]
NORTHERN_PAGES = ["/teams/htcr:northern", "/teams/htcr:northern/fidelity", "/teams/htcr:northern/fidelity/assessed-within-4h",
                  "/teams/htcr:northern/fidelity.csv?week=2026-12-07"]


class Site:
    """The app with a Belfast user (alice) and a Northern one (nora), each team's board filled."""

    def __init__(self, tmp_path, secret: str = SECRET, **settings):
        self.ids, self.northern = BelfastIds(), BelfastIds()
        self.clock = FixedClock(NOW)
        users = tmp_path / "users.json"
        add_user(users, "alice", "belfast", PASSWORDS["alice"], hasher=CHEAP)
        add_user(users, "nora", "northern", PASSWORDS["nora"], hasher=CHEAP)
        northern_board = replace(belfast_board(self.northern), trust=Trust.NORTHERN, team="htcr:northern")
        self.reader = FakeReader({"htcr:belfast": belfast_board(self.ids), "htcr:northern": northern_board})
        self.app = create_app(self.reader, Users(users, CHEAP), WebSettings(secret, https_only=False, **settings), self.clock)

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def signed_in(self, username: str = "alice") -> TestClient:
        client = self.client()
        response = sign_in(client, username, PASSWORDS[username])
        assert response.status_code == 303, response.text
        return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, username: str, password: str, goto: str = "/"):
    form = client.get("/sign-in", params={"next": goto})
    return client.post("/sign-in", data={"csrf": csrf_of(form.text), "username": username, "password": password, "next": goto})


@pytest.fixture
def site(tmp_path) -> Site:
    return Site(tmp_path)


# --- Nothing without signing in -----------------------------------------------------------------

@pytest.mark.parametrize("path", [*BELFAST_PAGES, *NORTHERN_PAGES, "/no/such/page"])
def test_every_page_sends_someone_not_signed_in_to_sign_in_and_back(site, path):
    """Without a session every page answers 303 to the sign-in page, which will bring them back to it."""
    response = site.client().get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?" + urlencode({"next": path})
    assert site.reader.asked == []


def test_a_post_without_a_session_is_sent_to_sign_in_alone(site):
    """A form posted without a session goes to the sign-in page with nowhere to come back to."""
    response = site.client().post("/sign-out", data={"csrf": "x"})
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")


def test_health_is_the_one_page_served_without_signing_in(site):
    """/healthz answers 200 "ok" to anyone."""
    response = site.client().get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_a_session_signed_with_another_secret_signs_nobody_in(tmp_path):
    """A session cookie signed with another board's secret is no session: the board sends them to sign in."""
    elsewhere = Site(tmp_path / "elsewhere", secret="another-board's-secret-of-40-characters!").signed_in()
    here = Site(tmp_path / "here").client()
    here.cookies.set("carepath_board", elsewhere.cookies["carepath_board"])
    assert here.get("/teams/htcr:belfast").status_code == 303


def test_a_session_lasts_a_shift_and_no_longer(site):
    """Twelve hours after signing in, the board asks for sign-in again, however recently it was used."""
    client = site.signed_in()
    site.clock.at += timedelta(hours=11, minutes=59)
    assert client.get("/teams/htcr:belfast").status_code == 200
    site.clock.at += timedelta(minutes=2)
    assert client.get("/teams/htcr:belfast").status_code == 303


def test_the_session_cookie_is_httponly_and_samesite_lax(tmp_path):
    """The session cookie cannot be read by a script, is not sent by other sites' posts, and is HTTPS-only by default."""
    site = Site(tmp_path)
    site.app = create_app(site.reader, Users(tmp_path / "users.json", CHEAP), WebSettings(SECRET), site.clock)
    cookie = site.client().get("/sign-in").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie and "max-age=43200" in cookie


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_the_board_will_not_start_with_a_short_session_secret(secret):
    """A session secret under 32 characters is refused before any app is made."""
    with pytest.raises(ValueError, match="session secret"):
        WebSettings(secret)


# --- Signing in -----------------------------------------------------------------------------------

def test_a_wrong_password_and_an_unknown_user_get_the_same_one_message(site):
    """A wrong password and an unknown username are both refused with only "Wrong username or password."."""
    client = site.client()
    wrong = sign_in(client, "alice", "not alice's password")
    unknown = sign_in(client, "mallory", "whatever it may be")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert WRONG in response.text
        assert "mallory" not in response.text and "alice" not in response.text
    assert client.get("/teams/htcr:belfast").status_code == 303


def test_signing_in_brings_the_user_back_where_they_were_going(site):
    """After signing in, the user lands on the page that sent them to sign in."""
    client = site.client()
    response = sign_in(client, "alice", PASSWORDS["alice"], "/teams/htcr:belfast/fidelity?week=2026-11-30")
    assert response.headers["location"] == "/teams/htcr:belfast/fidelity?week=2026-11-30"


@pytest.mark.parametrize("goto", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
                                  "http:/evil.example", " /teams", "/\t/evil.example", "/sign-in?next=//evil.example"])
def test_a_next_pointing_anywhere_but_this_site_is_ignored(site, goto):
    """A `next` that could lead off the site (or back into sign-in) is replaced by the home page."""
    assert safe_next(goto) == "/"
    assert sign_in(site.client(), "alice", PASSWORDS["alice"], goto).headers["location"] == "/"


def test_the_sign_in_form_needs_its_csrf_token(site):
    """A sign-in posted without the form's token is refused, even with the right password."""
    client = site.client()
    client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf": "forged", "username": "alice", "password": PASSWORDS["alice"]})
    assert response.status_code == 400
    assert client.get("/teams/htcr:belfast").status_code == 303


def test_five_wrong_passwords_lock_the_username_even_against_the_right_one(site):
    """After five wrong passwords the right one is refused too, for five minutes; then it works."""
    client = site.client()
    for _ in range(5):
        assert sign_in(client, "alice", "a wrong guess").status_code == 401
    locked = sign_in(client, "alice", PASSWORDS["alice"])
    assert locked.status_code == 429 and LOCKED in locked.text
    assert sign_in(client, "nora", PASSWORDS["nora"]).status_code == 303  # another username is not locked
    site.clock.at += timedelta(minutes=5)
    assert sign_in(site.client(), "alice", PASSWORDS["alice"]).status_code == 303


def test_sign_ins_are_logged_by_username_never_with_the_password(site):
    """A refused and an accepted sign-in are logged by username; no log line holds a password."""
    with capture_logs() as logs:
        sign_in(site.client(), "alice", "a wrong guess")
        sign_in(site.client(), "alice", PASSWORDS["alice"])
        sign_in(site.client(), PASSWORDS["nora"], "typed in the wrong box")
    assert [(line["event"], line["username"]) for line in logs] == [
        ("sign-in refused", "alice"), ("signed in", "alice"), ("sign-in refused", "(not a username)")]
    assert not any(secret in repr(logs) for secret in ("a wrong guess", PASSWORDS["alice"], PASSWORDS["nora"]))


def test_signing_out_needs_the_pages_csrf_token(site):
    """Sign-out without the page's token is refused and the session stays; with it, the session ends."""
    client = site.signed_in()
    page = client.get("/teams/htcr:belfast")
    assert client.post("/sign-out", data={"csrf": "forged"}).status_code == 403
    assert client.post("/sign-out").status_code == 403
    assert client.get("/teams/htcr:belfast").status_code == 200
    response = client.post("/sign-out", data={"csrf": csrf_of(page.text)})
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")
    assert client.get("/teams/htcr:belfast").status_code == 303


def test_without_oidc_configured_its_pages_are_not_there(site):
    """With no identity provider configured, /oidc/login is not an open door: it needs a session like any page."""
    assert site.client().get("/oidc/login").status_code == 303
    assert site.signed_in().get("/oidc/login").status_code == 404


# --- One Trust's teams only -----------------------------------------------------------------------

@pytest.mark.parametrize("path", NORTHERN_PAGES)
def test_a_belfast_user_is_refused_a_northern_team_and_sees_none_of_its_data(site, path):
    """A Belfast user opening a Northern team's page gets 403 saying so, and none of Northern's rows: the reader is not even asked."""
    response = site.signed_in().get(path)
    assert response.status_code == 403
    assert "another Trust" in response.text and "Northern Trust" in response.text
    for patient in vars(site.northern).values():
        assert str(patient) not in response.text and str(patient)[:8] not in response.text
    assert not any(team == "htcr:northern" for team, _ in site.reader.asked)


def test_each_user_sees_their_own_trusts_board(site):
    """The Northern user opens the Northern board, and it is Northern's rows they see, read as them."""
    response = site.signed_in("nora").get("/teams/htcr:northern")
    assert response.status_code == 200
    assert str(site.northern.breached) in response.text and str(site.ids.breached) not in response.text
    assert site.reader.asked == [("htcr:northern", "nora")]


def test_home_goes_straight_to_the_users_one_team(site):
    """A Trust with one team on the board sends its user straight there."""
    response = site.signed_in().get("/")
    assert (response.status_code, response.headers["location"]) == (303, "/teams/htcr:belfast")


def test_home_lists_the_trusts_teams_when_it_has_several(tmp_path):
    """With more than one kind of team on the board, home lists the user's Trust's teams, and no other Trust's."""
    site = Site(tmp_path, board_kinds=("htcr", "cmht"))
    response = site.signed_in().get("/")
    assert response.status_code == 200
    assert 'href="/teams/htcr:belfast"' in response.text and 'href="/teams/cmht:belfast"' in response.text
    assert "northern" not in response.text


@pytest.mark.parametrize("path", ["/teams/nonsense", "/teams/ward:belfast", "/teams/htcr:belfast/fidelity/no-such-figure"])
def test_a_team_or_figure_that_is_not_there_is_not_found(site, path):
    """A team that is no team, a team with no board and an unknown figure answer 404."""
    assert site.signed_in().get(path).status_code == 404


# --- The board --------------------------------------------------------------------------------------

def test_the_board_shows_breached_referrals_first_and_marks_them(site):
    """A breached referral is listed before one still in time, in red, with its clock's words and its time in the ED."""
    html = site.signed_in().get("/teams/htcr:belfast").text
    waiting = html[html.index('id="waiting"'):html.index('id="today"')]
    assert waiting.index(str(site.ids.breached)) < waiting.index(str(site.ids.waiting))
    row = re.search(r'<tr class="([^"]*)" data-patient="%s"' % site.ids.breached, waiting)
    assert "red" in row.group(1).split()
    assert "breached: 2 h 10 min past the 4 h target" in waiting and "in the ED 6 h 10 min" in waiting
    assert re.search(r'<tr class="waiting" data-patient="%s"' % site.ids.waiting, waiting)


def test_visits_needing_action_and_overdue_follow_ups_come_first_and_are_marked(site):
    """The missed visit and the overdue follow-up head their lists, highlighted and in words."""
    html = site.signed_in().get("/teams/htcr:belfast").text
    assert html.index(str(site.ids.missed)) < html.index(str(site.ids.planned))
    assert html.index(str(site.ids.overdue)) < html.index(str(site.ids.due))
    assert re.search(r'<tr class="visit amber" data-patient="%s"' % site.ids.missed, html)
    assert re.search(r'<tr class="follow-up red" data-patient="%s"' % site.ids.overdue, html)
    assert "missed: nobody recorded a visit" in html and "overdue by 5 h" in html and "Needs action" in html


def test_the_sections_come_in_the_team_leads_order_each_with_its_count(site):
    """The board's sections run from referrals waiting to those withheld by consent, each heading with its count."""
    html = site.signed_in().get("/teams/htcr:belfast").text
    sections = re.findall(r'<h2 id="([a-z-]+)-h">([^<]+)<span class="count[^"]*">(\d+)</span>', html)
    assert [(key, unescape(title).strip(), int(n)) for key, title, n in sections] == [
        ("waiting", "Referrals waiting for assessment", 2), ("today", "Today's visits", 2), ("tomorrow", "Tomorrow's visits", 0),
        ("follow-ups", "Follow-ups due within 72 hours or overdue", 2), ("discharges", "Discharges waiting on a gate item", 1),
        ("carers", "Carers", 1), ("below-plan", "Below their agreed contacts this week", 1), ("withheld", "Withheld by consent", 1)]


def test_people_appear_by_the_start_of_their_pseudonymous_id_with_the_whole_id_on_hover(site):
    """A patient is shown as the first 8 hex characters of their id in monospace, the whole id in its title."""
    html = site.signed_in().get("/teams/htcr:belfast").text
    patient = str(site.ids.withheld)
    assert f'<code class="id" title="{patient}">{patient[:8]}</code>' in html
    assert "the patient has not consented to sharing with this team" in html


def test_an_empty_board_says_so_list_by_list(site):
    """Each empty list says so in words, with 0 in its heading."""
    site.reader.boards["htcr:belfast"] = empty_board()
    html = site.signed_in().get("/teams/htcr:belfast").text
    for words in ("No referrals waiting.", "No visits today.", "No visits tomorrow.", "No follow-ups due in the next 72 hours.",
                  "No discharges waiting on the gate.", "No carers at breaking point or waiting for an assessment offer.",
                  "No patients below their agreed contacts this week.", "Nothing withheld."):
        assert words in html
    assert html.count('<span class="count zero">0</span>') == 8
    assert "<table>" not in html


def test_the_board_refreshes_itself_and_says_when_it_is_of(site):
    """The board reloads every minute and its header names the Trust, the team and the time it shows."""
    html = site.signed_in().get("/teams/htcr:belfast").text
    assert '<meta http-equiv="refresh" content="60">' in html
    assert "Belfast Trust" in html and "Home Treatment and Crisis Response, Belfast" in html
    assert "as of <time" in html and "Mon 7 Dec, 08:00" in html


def test_the_board_is_read_as_the_signed_in_user(site):
    """The reader is asked for the board as the user signed in, so each row is audited as seen by them."""
    site.signed_in().get("/teams/htcr:belfast")
    assert site.reader.asked == [("htcr:belfast", "alice")]


# --- Headers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/teams/htcr:belfast", "/teams/htcr:belfast/fidelity", "/teams/htcr:northern", "/sign-in",
                                  "/teams/htcr:belfast/fidelity.csv"])
def test_pages_send_the_security_headers(site, path):
    """Every page forbids framing, referrers, caching and script, and allows only the site's own resources and inline styles."""
    headers = site.signed_in().get(path).headers
    assert headers["content-security-policy"].startswith("default-src 'self'; style-src 'self' 'unsafe-inline'")
    assert "script-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


def test_the_redirect_to_sign_in_sends_the_security_headers_too(site):
    """Even the redirect to sign-in carries the headers."""
    assert site.client().get("/teams/htcr:belfast").headers["x-frame-options"] == "DENY"


# --- Fidelity -----------------------------------------------------------------------------------------

def test_the_fidelity_page_charts_each_figure_and_links_to_its_episodes(site):
    """Each figure has its bar, its words and counts, and a link to the episodes behind it, and the page a CSV link."""
    html = site.signed_in().get("/teams/htcr:belfast/fidelity?week=2026-12-07").text
    for figure in a_fidelity("htcr:belfast", WEEK).figures:
        assert f'href="/teams/htcr:belfast/fidelity/{figure.key}?week=2026-12-07"' in html
        assert figure.measures in html and figure.shown in html and figure.counted in html
    assert html.count("<svg") == 5
    assert 'width="327.3"' in html  # 9 of 11 of the 400-wide track
    assert 'href="/teams/htcr:belfast/fidelity.csv?week=2026-12-07"' in html


def test_fidelity_defaults_to_this_week_in_the_teams_time_zone(site):
    """Without a week, the fidelity page shows the week whose Monday it is in Northern Ireland (00:30 BST is already Monday)."""
    site.clock.at = datetime(2026, 6, 7, 23, 30, tzinfo=UTC)
    site.signed_in().get("/teams/htcr:belfast/fidelity")
    assert site.reader.asked == [("htcr:belfast", date(2026, 6, 8))]


def test_any_day_of_a_week_asks_for_that_weeks_monday_and_a_bad_week_is_refused(site):
    """A week given by any of its days means its Monday; a week that is not a date answers 400."""
    client = site.signed_in()
    client.get("/teams/htcr:belfast/fidelity?week=2026-12-10")
    assert site.reader.asked == [("htcr:belfast", date(2026, 12, 7))]
    assert client.get("/teams/htcr:belfast/fidelity?week=last-week").status_code == 400
    assert client.get("/teams/htcr:belfast/fidelity?week=2026-13-01").status_code == 400


def test_week_links_go_back_always_and_forward_only_up_to_this_week(site):
    """This week's page links to the week before and not after; an earlier week links both ways and back to this week."""
    client = site.signed_in()
    this_week = client.get("/teams/htcr:belfast/fidelity").text
    assert "?week=2026-11-30" in this_week and "?week=2026-12-14" not in this_week
    earlier = client.get("/teams/htcr:belfast/fidelity?week=2026-11-23").text
    assert "?week=2026-11-16" in earlier and "?week=2026-11-30" in earlier and "This week" in earlier


def test_a_figures_page_lists_its_episodes_those_that_fell_short_first_and_marked(site):
    """The episodes behind a figure are listed by id, those that fell short first and marked in words."""
    html = site.signed_in().get("/teams/htcr:belfast/fidelity/assessed-within-4h?week=2026-12-07").text
    figure = site.reader.weeks[("htcr:belfast", WEEK)].figures[0]
    shown = re.findall(r'data-episode="([0-9a-f-]+)"', html)
    assert shown[:2] == [str(e) for e in figure.short]
    assert sorted(shown) == sorted(str(e) for e in figure.episodes)
    assert html.count("Fell short") == 2 and "9 of 11 emergency or very urgent referrals" in html


def test_the_csv_holds_the_figures_as_they_are(site):
    """The CSV download has one row per figure: its key, words, unrounded value and its episodes counted and short."""
    response = site.signed_in().get("/teams/htcr:belfast/fidelity.csv?week=2026-12-07")
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="fidelity-htcr-belfast-2026-12-07.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    figures = site.reader.weeks[("htcr:belfast", WEEK)].figures
    assert [(r["key"], r["measures"], r["shown"], r["counted"], int(r["episodes"]), int(r["short"])) for r in rows] == [
        (f.key, f.measures, f.shown, f.counted, len(f.episodes), len(f.short)) for f in figures]
    assert [float(r["value"]) if r["value"] else None for r in rows] == [f.value for f in figures]
    assert response.text == fidelity_csv(site.reader.weeks[("htcr:belfast", WEEK)])


def test_shares_are_charted_against_100_percent_and_means_against_the_largest():
    """A share's bar is its value; a mean's is its share of the largest mean; nothing counted, no bar."""
    figures = [Figure("a", "a", 0.5, "50 %", "", True), Figure("b", "b", 1.7, "", "", False), Figure("c", "c", 3.4, "", "", False),
               Figure("d", "d", None, "none", "", True), Figure("e", "e", 1.2, "", "", True)]
    assert [fraction for _, fraction in chart(figures)] == [0.5, 0.5, 1.0, None, 1.0]
