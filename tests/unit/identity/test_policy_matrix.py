"""Walks every registered action × every kind of actor × the resources it applies to.

The expected table is written out here by hand from the issue's rules, not derived from the
policy code, so a change to the policy that the table does not expect fails.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dpghub.agile.models import AgileProject, ConsortiumMember
from dpghub.ai.models import LeadCase
from dpghub.catalog.models import Service
from dpghub.core.errors import Forbidden, Unauthenticated
from dpghub.core.jobs import Job
from dpghub.identity.models import Organization, Role, User
from dpghub.identity.policy import ACTIONS, ANONYMOUS, Actor, authorize
from dpghub.lake.models import Dataset
from dpghub.privacy.models import Zone, ZoneAnalyst
from dpghub.programmes.models import Agreement, Application, ApplicationMember, Call, Reviewer
from dpghub.testbed.models import Project, ProjectMember

ORG_A = Organization(id=1, slug="org-a")
ORG_B = Organization(id=2, slug="org-b")
ME = User(id=10, email="me@example.com")
DATASET_A = Dataset(id=5, org_id=1, slug="bjd", access="open")
RESTRICTED_A = Dataset(id=6, org_id=1, slug="people", access="restricted")
SENSITIVE_A = Dataset(id=7, org_id=1, slug="health", access="sensitive")
JOB_A = Job(id=9, org_id=1, kind="lake.ingest")
OTHER = User(id=11, email="other@example.com")
# a sandbox project of A with an invited collaborator (user 12) who accepted, and one (13) who
# has not yet
PROJECT_A = Project(id=20, org_id=1, name="p", members=[
    ProjectMember(user_id=12, role="collaborator", accepted_at=datetime(2026, 1, 1, tzinfo=UTC)),
    ProjectMember(user_id=13, role="collaborator", accepted_at=None)])
# a safe zone of A with an analyst from elsewhere (user 12)
ZONE_A = Zone(id=30, org_id=1, name="z", analysts=[ZoneAnalyst(user_id=12)])
# a call whose assigned reviewer is user 16, and an application led by A with B in its
# consortium
CALL = Call(id=40, programme="agile", title="c", reviewers=[Reviewer(user_id=16)])
APPLICATION_A = Application(id=41, org_id=1, call=CALL, members=[ApplicationMember(org_id=2)])
AGREEMENT_A = Agreement(id=42, org_id=1, application=APPLICATION_A)
# an agile project led by A with B in its consortium, and a registered service of A
AGILE_A = AgileProject(id=50, org_id=1, name="p", members=[ConsortiumMember(org_id=2)])
SERVICE_A = Service(id=60, org_id=1, slug="s")
# a lead case (공공 선도 적용) of agency A with supplier B
LEAD_CASE_A = LeadCase(id=70, agency_id=1, supplier_id=2, title="t")


def person(roles: dict[int, Role] | None = None, *, operator: bool = False,
           scopes: frozenset[str] = frozenset({"read", "write"})) -> Actor:
    return Actor(user_id=ME.id, email=ME.email, is_operator=operator, roles=roles or {},
                 scopes=scopes, via="session")


ACTORS = {
    "anonymous": ANONYMOUS,
    "outsider": person(),
    "member_a": person({1: Role.member}),
    "editor_a": person({1: Role.editor}),
    "admin_a": person({1: Role.admin}),
    "admin_b": person({2: Role.admin}),  # an admin of B acting on A
    "operator": person(operator=True),
    "collaborator": Actor(user_id=12, email="partner@example.com", via="session"),
    "invited": Actor(user_id=13, email="invited@example.com", via="session"),
    "supporter": Actor(user_id=14, email="help@example.com", via="session",
                       platform_roles=frozenset({"supporter"})),
    "key_manager": Actor(user_id=15, email="keys@example.com", via="session",
                         platform_roles=frozenset({"key_manager"})),
    "reviewer": Actor(user_id=16, email="review@example.com", via="session",
                      platform_roles=frozenset({"reviewer"})),
    # an app whose approved subscription covers RESTRICTED_A (and, wrongly asked, SENSITIVE_A)
    "app_a": Actor(via="app", email="org-b/3", datasets=frozenset({6, 7})),
    # an app whose approved development subscription covers RESTRICTED_A: a sample only
    "app_dev": Actor(via="app", email="org-b/4", samples=frozenset({6})),
}
EVERYONE = set(ACTORS)
APPS = {"app_a", "app_dev"}
SIGNED_IN = EVERYONE - {"anonymous"} - APPS
SELF = SIGNED_IN - {"collaborator", "invited", "supporter", "key_manager",
                    "reviewer"}   # the actors who are user 10
MEMBERS_A = {"member_a", "editor_a", "admin_a"}
DATA_ACTIONS = {"lake.rows.read", "lake.rows.sample", "lake.raw.read", "privacy.risk.read"}

# action -> (resource, actors allowed)
EXPECTED: dict[str, tuple[object, set[str]]] = {
    "identity.org.read": (ORG_A, EVERYONE),
    "identity.org.create": (None, SIGNED_IN),
    "identity.org.update": (ORG_A, {"admin_a", "operator"}),
    "identity.org.verify": (ORG_A, {"operator"}),
    "identity.member.list": (ORG_A, {"member_a", "editor_a", "admin_a", "operator"}),
    "identity.member.add": (ORG_A, {"admin_a", "operator"}),
    "identity.member.update": (ORG_A, {"admin_a", "operator"}),
    "identity.member.remove": (ORG_A, {"admin_a", "operator"}),
    "identity.member.leave": (ORG_A, {"member_a", "editor_a", "admin_a", "operator"}),
    "identity.user.read": (ME, SELF),
    "identity.user.update": (ME, SELF),
    "identity.token.list": (ME, SELF),
    "identity.token.manage": (ME, SELF),
    "identity.user.list": (None, {"operator"}),
    "core.audit.read": (None, {"operator"}),
    "core.job.read": (JOB_A, {"member_a", "editor_a", "admin_a", "operator"}),
    "core.job.cancel": (JOB_A, {"editor_a", "admin_a", "operator"}),
    "lake.dataset.read": (RESTRICTED_A, EVERYONE),
    "lake.dataset.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    "lake.dataset.update": (DATASET_A, {"editor_a", "admin_a", "operator"}),
    "lake.dataset.ingest": (DATASET_A, {"editor_a", "admin_a", "operator"}),
    "lake.dataset.restore": (DATASET_A, {"editor_a", "admin_a", "operator"}),
    "analysis.query.run": (None, EVERYONE),
    "analysis.saved.manage": (None, SIGNED_IN),
    "analysis.derived.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    "analysis.derived.refresh": (DATASET_A, {"editor_a", "admin_a", "operator"}),
    "catalog.search": (None, EVERYONE),
    "catalog.service.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    "gateway.app.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    "gateway.app.read": (ORG_A, {"member_a", "editor_a", "admin_a", "operator"}),
    "gateway.app.manage": (ORG_A, {"editor_a", "admin_a", "operator"}),
    "gateway.subscription.request": (ORG_A, {"editor_a", "admin_a", "operator"}),
    "gateway.subscription.decide": (ORG_A, {"admin_a", "operator"}),
    # rows of a restricted dataset: its members; operators run the platform, not the data
    "lake.rows.read": (RESTRICTED_A, MEMBERS_A | {"app_a"}),
    # a sample: also an app whose development subscription the owner approved
    "lake.rows.sample": (RESTRICTED_A, MEMBERS_A | APPS),
    # the received files of restricted data: members only, whatever the subscription
    "lake.raw.read": (RESTRICTED_A, MEMBERS_A),
    "identity.platform_role.grant": (None, {"operator"}),
    "testbed.project.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    # a project: the organization's members and the collaborators who accepted
    "testbed.project.read": (PROJECT_A, MEMBERS_A | {"collaborator", "operator"}),
    "testbed.project.work": (PROJECT_A, MEMBERS_A | {"collaborator", "operator"}),
    "testbed.project.manage": (PROJECT_A, {"editor_a", "admin_a", "operator"}),
    "testbed.support.answer": (None, {"supporter", "operator"}),
    # which columns hold personal data is metadata (examples are shown to row readers only)
    "privacy.findings.read": (RESTRICTED_A, EVERYONE),
    # class sizes tell about rows: as reading them (operators run the platform, not the data)
    "privacy.risk.read": (RESTRICTED_A, MEMBERS_A | {"app_a"}),
    "privacy.settings.update": (DATASET_A, {"editor_a", "admin_a", "operator"}),
    "privacy.pseudonymise": (DATASET_A, {"editor_a", "admin_a", "operator"}),
    "privacy.tokens.read": (DATASET_A, {"admin_a", "operator"}),
    "privacy.combination.request": (ORG_A, {"editor_a", "admin_a", "operator"}),
    "privacy.combination.read": (None, SIGNED_IN),
    "privacy.combination.approve": (DATASET_A, {"admin_a", "operator"}),
    # named people, not operators by office: salts and export verdicts are not the platform's
    "privacy.combination.key": (None, {"key_manager"}),
    "privacy.zone.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    # a zone: the organization's members and its analysts (only analysts query: the service)
    "privacy.zone.read": (ZONE_A, MEMBERS_A | {"collaborator", "operator"}),
    "privacy.zone.manage": (ZONE_A, {"editor_a", "admin_a", "operator"}),
    "privacy.zone.approve": (DATASET_A, {"admin_a", "operator"}),
    "privacy.zone.query": (ZONE_A, MEMBERS_A | {"collaborator", "operator"}),
    "privacy.export.review": (None, {"reviewer"}),
    "programmes.call.create": (None, {"operator"}),
    "programmes.call.read": (CALL, EVERYONE),
    "programmes.application.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    # the lead's editors write the application; consortium members (B) read it
    "programmes.application.update": (APPLICATION_A, {"editor_a", "admin_a", "operator"}),
    "programmes.application.read": (APPLICATION_A, MEMBERS_A | {"admin_b", "reviewer",
                                                                "operator"}),
    "programmes.review.assign": (CALL, {"operator"}),
    # the assigned reviewer only: operators select, they do not score by office
    "programmes.review.score": (APPLICATION_A, {"reviewer"}),
    "programmes.selection.read": (CALL, {"operator"}),
    "programmes.figures.read": (None, {"operator"}),
    "programmes.selection.decide": (CALL, {"operator"}),
    "programmes.report.submit": (AGREEMENT_A, {"editor_a", "admin_a", "operator"}),
    "agile.project.create": (ORG_A, {"editor_a", "admin_a", "operator"}),
    # the consortium (lead A and member B) works in the project; tokens are the lead's
    "agile.project.read": (AGILE_A, MEMBERS_A | {"admin_b", "operator"}),
    "agile.project.work": (AGILE_A, MEMBERS_A | {"admin_b", "operator"}),
    "agile.project.manage": (AGILE_A, {"editor_a", "admin_a", "operator"}),
    "agile.service.link": (SERVICE_A, {"editor_a", "admin_a", "operator"}),
    "agile.public.read": (SERVICE_A, EVERYONE),
    # anonymous feedback is decided by the service's setting, in the service
    "agile.feedback.give": (SERVICE_A, EVERYONE),
    "agile.feedback.vote": (None, SIGNED_IN),
    "agile.feedback.settings": (SERVICE_A, {"editor_a", "admin_a", "operator"}),
    "ai.provider.manage": (None, {"operator"}),
    "ai.budget.grant": (ORG_A, {"operator"}),
    "ai.budget.read": (ORG_A, MEMBERS_A | {"operator"}),
    "ai.usage.read": (ORG_A, MEMBERS_A | {"operator"}),
    "ai.settings.manage": (ORG_A, {"admin_a", "operator"}),
    "ai.assist.use": (None, SIGNED_IN),
    "ai.catalog.ask": (None, EVERYONE),
    "ai.programme.read": (None, EVERYONE),
    # the AI-support programme's staff record sessions and lead cases, and read them all
    "ai.support.manage": (None, {"supporter", "operator"}),
    # an attending company's people read its sessions
    "ai.support.read": (ORG_A, MEMBERS_A | {"operator"}),
    "ai.leadcase.manage": (None, {"supporter", "operator"}),
    # before it is public: the agency's (A) and the supplier's (B) people
    "ai.leadcase.read": (LEAD_CASE_A, MEMBERS_A | {"admin_b", "operator"}),
}


def test_every_registered_action_is_in_the_matrix() -> None:
    assert set(ACTIONS) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("who", sorted(ACTORS))
def test_matrix(action: str, who: str) -> None:
    resource, allowed = EXPECTED[action]
    actor = ACTORS[who]
    if who in allowed:
        authorize(actor, action, resource)
        return
    if who == "anonymous":
        expected_error: type[Exception] = Unauthenticated
    elif who in APPS:  # an app is no user; for data it is told which subscription is missing
        expected_error = Forbidden if action in DATA_ACTIONS else Unauthenticated
    else:
        expected_error = Forbidden
    with pytest.raises(expected_error):
        authorize(actor, action, resource)


@pytest.mark.parametrize("action", ["identity.user.update", "identity.token.manage",
                                    "identity.user.read"])
def test_self_actions_on_another_user_are_refused(action: str) -> None:
    with pytest.raises(Forbidden):
        authorize(ACTORS["admin_a"], action, OTHER)
    authorize(ACTORS["operator"], action, OTHER)  # operators support any account


@pytest.mark.parametrize("action", ["identity.org.update", "identity.member.add",
                                    "identity.member.list"])
def test_membership_in_a_does_not_reach_b(action: str) -> None:
    with pytest.raises(Forbidden):
        authorize(ACTORS["admin_a"], action, ORG_B)


def test_read_scope_token_cannot_write() -> None:
    reader = person({1: Role.admin}, scopes=frozenset({"read"}))
    authorize(reader, "identity.member.list", ORG_A)
    with pytest.raises(Forbidden) as refused:
        authorize(reader, "identity.org.update", ORG_A)
    assert refused.value.code == "insufficient_scope"


def test_unknown_actions_are_refused_even_for_operators() -> None:
    with pytest.raises(Forbidden) as refused:
        authorize(ACTORS["operator"], "identity.org.delete_everything", ORG_A)
    assert refused.value.code == "unknown_action"


def test_every_action_is_described() -> None:
    for action in ACTIONS.values():
        assert action.description.strip(), action.name


@pytest.mark.parametrize("action", sorted(DATA_ACTIONS))
@pytest.mark.parametrize("who", sorted(ACTORS))
def test_open_data_is_for_everyone_and_sensitive_data_for_members_only(action: str,
                                                                        who: str) -> None:
    authorize(ACTORS[who], action, DATASET_A)
    if who in MEMBERS_A:
        authorize(ACTORS[who], action, SENSITIVE_A)
    else:
        with pytest.raises(Unauthenticated if who == "anonymous" else Forbidden):
            authorize(ACTORS[who], action, SENSITIVE_A)


def test_an_app_with_a_sample_is_told_so_when_it_asks_for_every_row() -> None:
    with pytest.raises(Forbidden) as refused:
        authorize(ACTORS["app_dev"], "lake.rows.read", RESTRICTED_A)
    assert refused.value.code == "sample_only"
    with pytest.raises(Forbidden) as refused:
        authorize(ACTORS["app_a"], "lake.raw.read", RESTRICTED_A)
    assert refused.value.code == "raw_files_members_only"
