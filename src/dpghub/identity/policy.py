"""The one authorization policy: `authorize(actor, action, resource)`.

Every permission is a named action registered in `ACTIONS` with the rule that grants it. Deny
by default: an action that is not registered is refused. Later domains register their actions
here too, so one test can walk every role × action × resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..core.errors import Forbidden, Unauthenticated
from .models import Organization, Role, User

ROLE_RANK = {Role.member: 1, Role.editor: 2, Role.admin: 3}
PLATFORM_ROLES = ("supporter", "key_manager", "reviewer")   # granted by operators, per user


class Rule(StrEnum):
    anyone = "anyone"                # also anonymous visitors
    authenticated = "authenticated"  # any signed-in user
    self_ = "self"                   # the user the resource is
    org_member = "org_member"        # any role in the resource's organization
    org_editor = "org_editor"        # editor or admin there
    org_admin = "org_admin"          # admin there
    operator = "operator"            # platform operators only
    supporter = "supporter"          # the testbed's support staff (and operators)
    participant = "participant"      # members of the resource's organization, and the people
    #                                  it names in `participant_ids` (invited collaborators)
    data_reader = "data_reader"      # rows of a dataset: anyone when open, else its members
    data_sampler = "data_sampler"    # a sample of the rows: as data_reader, or a development
    #                                  subscription the owner approved
    data_owner = "data_owner"        # received files: anyone when open, else members only
    key_manager = "key_manager"      # holders of linkage salts for combinations (not operators)
    reviewer = "reviewer"            # members of export review committees (not operators)
    applicant = "applicant"          # members of any organization the resource names in
    #                                  `org_ids` (a consortium's lead and members), and the
    #                                  people it names in `reviewer_ids` (a call's reviewers)
    call_reviewer = "call_reviewer"  # the people the resource names in `reviewer_ids` only
    #                                  (assigned by operators; not operators as such)
    team = "team"                    # members of any organization the resource names in
    #                                  `org_ids` (an agile project's lead and consortium)


@dataclass(frozen=True)
class Action:
    name: str
    rule: Rule
    write: bool
    description: str


ACTIONS: dict[str, Action] = {}


def register(name: str, rule: Rule, *, write: bool, description: str) -> Action:
    if name in ACTIONS:
        raise ValueError(f"action {name} is registered twice")
    ACTIONS[name] = Action(name, rule, write, description)
    return ACTIONS[name]


register("identity.org.read", Rule.anyone, write=False,
         description="See an organization's public page")
register("identity.org.create", Rule.authenticated, write=True,
         description="Create an organization (the creator becomes its admin)")
register("identity.org.update", Rule.org_admin, write=True,
         description="Change an organization's names and description")
register("identity.org.verify", Rule.operator, write=True,
         description="Mark an organization (a public agency) as verified")
register("identity.member.list", Rule.org_member, write=False,
         description="See the members of an organization")
register("identity.member.add", Rule.org_admin, write=True,
         description="Add a member or invite an address")
register("identity.member.update", Rule.org_admin, write=True,
         description="Change a member's role")
register("identity.member.remove", Rule.org_admin, write=True,
         description="Remove a member")
register("identity.member.leave", Rule.org_member, write=True,
         description="Leave an organization")
register("identity.user.read", Rule.self_, write=False,
         description="See one's own account")
register("identity.user.update", Rule.self_, write=True,
         description="Change one's own name, language or password")
register("identity.token.list", Rule.self_, write=False,
         description="See one's own API tokens (never their secrets)")
register("identity.token.manage", Rule.self_, write=True,
         description="Create and revoke one's own API tokens")
register("identity.user.list", Rule.operator, write=False,
         description="List every user of the hub")
register("identity.platform_role.grant", Rule.operator, write=True,
         description="Grant or take back a platform role (supporter, key_manager, reviewer)")
register("core.audit.read", Rule.operator, write=False,
         description="Read and verify the audit log")
register("core.job.read", Rule.org_member, write=False,
         description="Follow a background job of one's organization")
register("core.job.cancel", Rule.org_editor, write=True,
         description="Cancel a background job of one's organization")
register("lake.dataset.read", Rule.anyone, write=False,
         description="See a dataset's description, schema, versions and profile")
register("lake.dataset.create", Rule.org_editor, write=True,
         description="Create a dataset in an organization")
register("lake.dataset.update", Rule.org_editor, write=True,
         description="Change a dataset's description or access level")
register("lake.dataset.ingest", Rule.org_editor, write=True,
         description="Upload files into a dataset (a new version)")
register("lake.dataset.restore", Rule.org_editor, write=True,
         description="Restore an earlier version of a dataset (as a new version)")
register("analysis.query.run", Rule.anyone, write=False,
         description="Run SQL over datasets one may read (each dataset is checked)")
register("analysis.saved.manage", Rule.authenticated, write=True,
         description="Save one's own queries")
register("analysis.derived.create", Rule.org_editor, write=True,
         description="Materialise a query as a new dataset of the organization")
register("analysis.derived.refresh", Rule.org_editor, write=True,
         description="Refresh a derived dataset from the current versions of its inputs")
register("catalog.search", Rule.anyone, write=False,
         description="Search the registry of datasets and services (metadata is public)")
register("catalog.service.create", Rule.org_editor, write=True,
         description="Register a service (API) of the organization")
register("gateway.app.create", Rule.org_editor, write=True,
         description="Create an app (a consumer application) of the organization")
register("gateway.app.read", Rule.org_member, write=False,
         description="See an organization's apps, their keys (never the secrets) and "
         "subscriptions")
register("gateway.app.manage", Rule.org_editor, write=True,
         description="Add, rotate and revoke an app's keys")
register("gateway.subscription.request", Rule.org_editor, write=True,
         description="Ask for access to a service or dataset on behalf of an app")
register("gateway.subscription.decide", Rule.org_admin, write=True,
         description="Approve, reject or revoke subscriptions to the organization's services")
register("lake.rows.read", Rule.data_reader, write=False,
         description="Read a dataset's rows (open: anyone; restricted: members of the owner "
         "and apps with an approved production subscription; sensitive: members only)")
register("lake.rows.sample", Rule.data_sampler, write=False,
         description="Read a fixed sample of a dataset's current rows (also apps whose "
         "development subscription to a restricted dataset the owner approved)")
register("lake.raw.read", Rule.data_owner, write=False,
         description="Download the files a dataset was ingested from, byte for byte (open: "
         "anyone; restricted and sensitive: members of the owner only, never through an app)")

register("testbed.project.create", Rule.org_editor, write=True,
         description="Start a sandbox project of the organization")
register("testbed.project.read", Rule.participant, write=False,
         description="See a sandbox project: members, keys, mocks, synthetic data, "
         "validations, the request inspector and tickets")
register("testbed.project.work", Rule.participant, write=True,
         description="Work in a sandbox project: sandbox keys, synthetic copies, validations, "
         "stage, the validation proxy, tickets")
register("testbed.project.manage", Rule.org_editor, write=True,
         description="Change a sandbox project's members, expiry and limits; delete it")
register("testbed.support.answer", Rule.supporter, write=True,
         description="See the support queue; assign, answer and publish tickets as FAQ")

register("privacy.findings.read", Rule.anyone, write=False,
         description="See which columns of a dataset hold personal data (masked examples only "
         "for those who may read its rows)")
register("privacy.risk.read", Rule.data_reader, write=False,
         description="Compute the re-identification risk (k-anonymity, l-diversity) of a "
         "dataset version one may read")
register("privacy.settings.update", Rule.org_editor, write=True,
         description="Set a dataset's minimum cell size for safe-zone answers")
register("privacy.pseudonymise", Rule.org_editor, write=True,
         description="Build a pseudonymised dataset of the organization from one of its datasets")
register("privacy.tokens.read", Rule.org_admin, write=False,
         description="Read the token mapping table of a pseudonymisation (the owner's admins)")
register("privacy.combination.request", Rule.org_editor, write=True,
         description="Ask for a combination of datasets of several organizations into a safe "
         "zone of the organization")
register("privacy.combination.read", Rule.authenticated, write=False,
         description="See a combination request (its requester, the datasets' owners and the "
         "key managers)")
register("privacy.combination.approve", Rule.org_admin, write=True,
         description="Approve or reject the use of the organization's dataset in a combination")
register("privacy.combination.key", Rule.key_manager, write=True,
         description="Approve a combination with a linkage salt of one's own (key managers)")
register("privacy.zone.create", Rule.org_editor, write=True,
         description="Open a safe analysis zone (데이터안심구역) of the organization")
register("privacy.zone.read", Rule.participant, write=False,
         description="See a safe zone: its sources, analysts, query log and exports")
register("privacy.zone.manage", Rule.org_editor, write=True,
         description="Add or remove a safe zone's analysts and sources")
register("privacy.zone.approve", Rule.org_admin, write=True,
         description="Approve or reject a safe zone's use of the organization's dataset")
register("privacy.zone.query", Rule.participant, write=True,
         description="Query a safe zone (approved analysts only; only checked aggregates leave)")
register("privacy.export.review", Rule.reviewer, write=True,
         description="Review export requests of safe zones (never one's own organization's)")

register("programmes.call.create", Rule.operator, write=True,
         description="Open a call for participants (공모) of a programme")
register("programmes.call.read", Rule.anyone, write=False,
         description="See calls for participants, their criteria and the public dashboard")
register("programmes.application.create", Rule.org_editor, write=True,
         description="Apply to a call for the organization (as a lead, alone or with a "
         "consortium)")
register("programmes.application.update", Rule.org_editor, write=True,
         description="Edit and submit the lead organization's application")
register("programmes.application.read", Rule.applicant, write=False,
         description="See an application, its outcome and agreement (the applying "
         "organizations, the call's reviewers, operators)")
register("programmes.review.assign", Rule.operator, write=True,
         description="Assign reviewers to a call")
register("programmes.review.score", Rule.call_reviewer, write=True,
         description="Score an application of a call one reviews (never one's own "
         "organization's)")
register("programmes.selection.read", Rule.operator, write=False,
         description="See the ranking of a call and the applicants' names and scores")
register("programmes.selection.decide", Rule.operator, write=True,
         description="Select participants of a call; every applicant is told the reason")
register("programmes.figures.read", Rule.operator, write=False,
         description="See the hub's monthly figures kept for operators on the programme "
         "dashboard (every dataset, sandbox projects, validations, AI tokens)")
register("programmes.report.submit", Rule.org_editor, write=True,
         description="Submit a progress report on the lead organization's agreement")

register("agile.project.create", Rule.org_editor, write=True,
         description="Start an agile service project led by the organization")
register("agile.project.read", Rule.team, write=False,
         description="See an agile project: backlog, board, iterations, releases, deployments, "
         "incidents and tokens (the consortium's people)")
register("agile.project.work", Rule.team, write=True,
         description="Work in an agile project: items, board moves, iterations, releases, "
         "incidents, triage of its service's feedback")
register("agile.service.link", Rule.org_editor, write=True,
         description="Link the organization's registered service to an agile project another "
         "organization leads (its feedback and changelog are then that project's)")
register("agile.project.manage", Rule.org_editor, write=True,
         description="Create and revoke an agile project's CI tokens (the lead's editors)")
register("agile.public.read", Rule.anyone, write=False,
         description="See a service's feedback, changelog and delivery metrics")
register("agile.feedback.give", Rule.anyone, write=True,
         description="Give feedback on a service (anonymously only where the service allows "
         "it)")
register("agile.feedback.vote", Rule.authenticated, write=True,
         description="Vote for and comment on a service's feedback")
register("agile.feedback.settings", Rule.org_editor, write=True,
         description="Allow or refuse anonymous feedback on the organization's service")

register("ai.provider.manage", Rule.operator, write=True,
         description="Register AI providers (OpenAI-compatible endpoints, their sealed secrets "
         "and models) and list them")
register("ai.budget.grant", Rule.operator, write=True,
         description="Grant an organization its monthly AI credit (tokens)")
register("ai.budget.read", Rule.org_member, write=False,
         description="See the organization's AI credit: granted, used, left")
register("ai.settings.manage", Rule.org_admin, write=True,
         description="Choose whether the organization's AI prompts are masked of personal data")
register("ai.usage.read", Rule.org_member, write=False,
         description="See the organization's (or its app's) AI usage per model and day")
register("ai.assist.use", Rule.authenticated, write=False,
         description="Ask the data in plain language (NL→SQL): the hub's model writes SQL "
         "that runs with one's own rights over the datasets one may read")
register("ai.catalog.ask", Rule.anyone, write=False,
         description="Ask the catalogue a question: the hub's model answers from the datasets, "
         "services and FAQ one may see, citing them (anonymous callers: open records only, "
         "within an abuse limit)")
register("ai.programme.read", Rule.anyone, write=False,
         description="See the AI-support programme's page: companies supported, credits granted "
         "and spent, sessions held, public lead cases")
register("ai.support.manage", Rule.supporter, write=True,
         description="Record consulting and education sessions of the AI-support programme; see "
         "every session and each supported company's credit")
register("ai.support.read", Rule.org_member, write=False,
         description="See the AI-support sessions the organization attended")
register("ai.leadcase.manage", Rule.supporter, write=True,
         description="Record and update public lead cases (공공 선도 적용) of AI services; see "
         "those not yet public")
register("ai.leadcase.read", Rule.team, write=False,
         description="See a lead case before it is public (the agency's and the supplier's "
         "people)")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (through a web session, a token or the CLI), or nobody."""

    user_id: int | None = None
    email: str | None = None
    display_name: str | None = None
    is_operator: bool = False
    roles: Mapping[int, Role] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset({"read", "write"})
    via: str = "anonymous"  # anonymous | session | token | cli | system | app
    language: str | None = None
    # an app calling with its key: the restricted datasets it holds approved production
    # subscriptions to (every row), and those with approved development ones (a sample)
    datasets: frozenset[int] = frozenset()
    samples: frozenset[int] = frozenset()
    platform_roles: frozenset[str] = frozenset()   # granted by operators: supporter, …
    sandbox_project: int | None = None   # a sandbox key's project (via "sandbox")

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.via == "system"

    @property
    def audit_ref(self) -> str:
        if self.via == "system":
            return f"system:{self.email or 'hub'}"
        if self.via in ("app", "sandbox", "ci"):
            return f"{self.via}:{self.email}"
        if self.user_id is None:
            return "anonymous"
        return f"user:{self.user_id}:{self.email}:{self.via}"

    def role_in(self, org_id: int) -> Role | None:
        return self.roles.get(org_id)

    @classmethod
    def for_user(cls, user: User, *, via: str, scopes: frozenset[str] | None = None) -> Actor:
        return cls(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_operator=user.is_operator,
            roles={m.org_id: Role(m.role) for m in user.memberships},
            scopes=scopes if scopes is not None else frozenset({"read", "write"}),
            via=via,
            language=user.language,
            platform_roles=frozenset((user.platform_roles or "").split()),
        )


ANONYMOUS = Actor()
SYSTEM = Actor(via="system", is_operator=True)
CLI = Actor(via="system", is_operator=True, email="cli")


def authorize(actor: Actor, action: str, resource: Any = None) -> None:
    """Return when `actor` may do `action` on `resource`; raise with the reason otherwise."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Forbidden("Unknown action {action} is refused", code="unknown_action", action=action)
    if spec.rule is Rule.anyone:
        if spec.write and actor.is_authenticated and "write" not in actor.scopes:
            raise Forbidden("This token has read scope only; this action needs write scope",
                            code="insufficient_scope")   # anyone may; not a read-only token
        return
    if spec.rule in _DATA_RULES:
        _authorize_data(actor, resource, spec.rule)
        return
    if not actor.is_authenticated:
        raise Unauthenticated()
    if spec.write and "write" not in actor.scopes:
        raise Forbidden("This token has read scope only; this action needs write scope",
                        code="insufficient_scope")
    if actor.via == "system" or actor.is_operator and spec.rule not in _NAMED_ROLES:
        return
    if _granted(actor, spec.rule, resource):
        return
    raise Forbidden(_REFUSALS[spec.rule], code="forbidden", action=action)


_DATA_RULES = (Rule.data_reader, Rule.data_sampler, Rule.data_owner)
# roles operators give to named people, and do not hold by being operators: a key manager
# holds salts apart from the platform, a reviewer judges exports apart from it
_NAMED_ROLES = (Rule.key_manager, Rule.reviewer, Rule.call_reviewer)


def _authorize_data(actor: Actor, resource: Any, rule: Rule) -> None:
    """Row access is the owner's decision: operators get no bypass for restricted data, and
    only the owner's approval of a subscription lets an app in."""
    access = getattr(resource, "access", None)
    if access == "open":
        return
    dataset_id = getattr(resource, "id", None)
    if access == "restricted" and rule is not Rule.data_owner:
        if dataset_id in actor.datasets:
            return                 # an approved production subscription: every row
        if rule is Rule.data_sampler and dataset_id in actor.samples:
            return                 # an approved development subscription: a sample
    if actor.via == "app":
        if rule is Rule.data_owner:
            raise Forbidden("The received files of a {access} dataset are for members of its "
                            "organization only", code="raw_files_members_only", access=access)
        if access == "restricted" and dataset_id in actor.samples:
            raise Forbidden("This app's development subscription gives a sample of the rows "
                            "only; ask the owner for a production subscription",
                            code="sample_only", access=access)
        raise Forbidden("This app has no approved subscription to this {access} dataset",
                        code="subscription_required", access=access)
    if actor.via != "system" and actor.role_in(_org_id(resource) or -1) is None:
        if not actor.is_authenticated:
            raise Unauthenticated()
        raise Forbidden("Only members of the owning organization may read rows of this "
                        "{access} dataset", code="access_denied", access=access)


def can(actor: Actor, action: str, resource: Any = None) -> bool:
    try:
        authorize(actor, action, resource)
    except (Forbidden, Unauthenticated):
        return False
    return True


def _granted(actor: Actor, rule: Rule, resource: Any) -> bool:
    if rule is Rule.authenticated:
        return True
    if rule is Rule.self_:
        return isinstance(resource, User) and resource.id == actor.user_id
    if rule in (Rule.supporter, Rule.key_manager, Rule.reviewer):
        return rule.value in actor.platform_roles
    if rule in (Rule.applicant, Rule.call_reviewer):
        if actor.user_id is not None and actor.user_id in getattr(resource, "reviewer_ids", ()):
            return True
        return rule is Rule.applicant and any(
            actor.role_in(org_id) is not None for org_id in getattr(resource, "org_ids", ()))
    if rule is Rule.team:
        return any(actor.role_in(org_id) is not None for org_id in getattr(resource, "org_ids",
                                                                            ()))
    if rule is Rule.participant:
        if actor.user_id in getattr(resource, "participant_ids", ()):
            return True
        org_id = _org_id(resource)
        return org_id is not None and actor.role_in(org_id) is not None
    if rule in (Rule.org_member, Rule.org_editor, Rule.org_admin):
        org_id = _org_id(resource)
        role = actor.role_in(org_id) if org_id is not None else None
        if role is None:
            return False
        needed = {Rule.org_member: Role.member, Rule.org_editor: Role.editor,
                  Rule.org_admin: Role.admin}[rule]
        return ROLE_RANK[role] >= ROLE_RANK[needed]
    return False  # Rule.operator, handled above


def _org_id(resource: Any) -> int | None:
    if isinstance(resource, Organization):
        return resource.id
    return getattr(resource, "org_id", None)


_REFUSALS = {
    Rule.authenticated: "Sign in to do this",
    Rule.self_: "Only the account's owner may do this",
    Rule.org_member: "Only members of this organization may do this",
    Rule.org_editor: "Only editors and admins of this organization may do this",
    Rule.org_admin: "Only admins of this organization may do this",
    Rule.operator: "Only platform operators may do this",
    Rule.supporter: "Only the testbed's support staff may do this",
    Rule.participant: "Only the people of this project or safe zone may do this",
    Rule.key_manager: "Only key managers may do this",
    Rule.reviewer: "Only export reviewers may do this",
    Rule.applicant: "Only the applying organizations, the call's reviewers and operators may "
                    "do this",
    Rule.call_reviewer: "Only the reviewers assigned to this call may do this",
    Rule.team: "Only the people of this project's consortium may do this",
}
