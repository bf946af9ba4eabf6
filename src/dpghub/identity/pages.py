"""Identity pages: home, sign-up, sign-in, account and tokens, one's notices, organizations,
operator desk."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..core.errors import HubError
from ..core.i18n import LANGUAGES
from ..web import csrf
from ..web.context import DbSession, HubSettings
from ..web.forms import attempt, form_data, local_path, parse
from ..web.params import Id, OptionalId
from ..web.templating import redirect, render, set_language_cookie
from . import schemas, service, throttle
from .dependencies import SESSION_COOKIE, PageActor, SignedInPageActor, current_user
from .models import Membership, Organization, OrgKind, Role
from .policy import Actor, can

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
NOTICES_SHOWN = 100     # the newest; older ones stay stored


def _failed(request: Request, session: Any, template: str, context: dict[str, Any],
            error: HubError) -> Response:
    """Re-render a form with the error (the attempt was rolled back by `attempt`)."""
    return render(request, template, {**context, "error": error}, status=error.status)


# --- home and language -------------------------------------------------------------------


@router.post("/lang")
async def choose_language(request: Request, session: DbSession, actor: PageActor) -> Response:
    data = await form_data(request)
    lang = data.get("lang") if data.get("lang") in LANGUAGES else "ko"
    if actor.user_id is not None:
        user = current_user(session, actor)
        service.update_user(session, actor=actor, user=user, data=schemas.UserUpdate(language=lang))
    response = redirect(request, local_path(data.get("next")))
    set_language_cookie(response, lang)
    return response


# --- sign-up, sign-in, sign-out -------------------------------------------------------------


@router.get("/signup")
def signup_form(request: Request, actor: PageActor, invite: str | None = None) -> Response:
    return render(request, "identity/signup.html", {"form": {}, "invite": invite})


@router.post("/signup")
async def signup(request: Request, session: DbSession, actor: PageActor,
                 settings: HubSettings) -> Response:
    data = await form_data(request)
    invite = data.pop("invite", None) or None
    context = {"form": data, "invite": invite, "canonical": "/signup"}
    with attempt(session) as tried:
        if data.get("password") != data.pop("password2", None):
            raise HubError("The two passwords differ", code="password_mismatch",
                           field="password2")
        data.setdefault("language", request.cookies.get("dpghub_lang", "ko"))
        user = service.create_user(session, actor=actor, data=parse(schemas.SignUp, data))
        raw = service.start_web_session(session, user=user, hours=settings.session_hours)
        new_actor = Actor.for_user(user, via="session")
        if invite:
            service.accept_invitation(session, actor=new_actor, secret=invite)
    if (error := tried.error) is not None:
        return _failed(request, session, "identity/signup.html", context, error)
    response = redirect(request, "/account", "Welcome! Your account is ready.")
    _set_session_cookie(response, raw, settings)
    return response


@router.get("/signin")
def signin_form(request: Request, actor: PageActor, next: str | None = None) -> Response:
    return render(request, "identity/signin.html", {"form": {}, "next": local_path(next)})


@router.post("/signin")
async def signin(request: Request, session: DbSession, actor: PageActor,
                 settings: HubSettings) -> Response:
    data = await form_data(request)
    target = local_path(data.get("next"), "/account")
    result = service.authenticate(session, email=str(data.get("email", "")),
                                  password=str(data.get("password", "")),
                                  address=request.client.host if request.client else "",
                                  limits=sign_in_limits(settings),
                                  now=request.app.state.clock())
    if result.user is None:
        session.commit()  # keep the failure count and the audit event
        assert result.error is not None
        return render(request, "identity/signin.html",
                      {"form": {"email": data.get("email", "")}, "next": target,
                       "error": result.error, "canonical": "/signin"},
                      status=result.error.status, headers=result.error.headers or None)
    raw = service.start_web_session(session, user=result.user, hours=settings.session_hours)
    response = redirect(request, target)
    _set_session_cookie(response, raw, settings)
    response.set_cookie("dpghub_lang", result.user.language, httponly=True, samesite="lax",
                        max_age=60 * 60 * 24 * 365)
    return response


@router.post("/signout")
def signout(request: Request, session: DbSession, actor: PageActor) -> Response:
    service.end_web_session(session, request.cookies.get(SESSION_COOKIE))
    response = redirect(request, "/", "You are signed out.")
    response.delete_cookie(SESSION_COOKIE)
    return response


def sign_in_limits(settings: Any) -> throttle.Limits:
    return throttle.Limits(free=settings.login_max_failures,
                           longest=timedelta(minutes=settings.login_lock_minutes))


def _set_session_cookie(response: Response, raw: str, settings: Any) -> None:
    response.set_cookie(SESSION_COOKIE, raw, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, max_age=settings.session_hours * 3600)


# --- account and tokens --------------------------------------------------------------------


def _account(request: Request, session: Any, actor: Actor, **extra: Any) -> Response:
    user = current_user(session, actor)
    context = {
        "user": user,
        "tokens": service.list_tokens(session, actor=actor, user=user),
        "mine": service.orgs_of(session, user.id),
        **extra,
    }
    return render(request, "identity/account.html", {**context, "canonical": "/account"},
                  status=extra["error"].status if extra.get("error") else 200)


@router.get("/account")
def account(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    return _account(request, session, actor)


@router.post("/account/profile")
async def account_profile(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    with attempt(session) as tried:
        data = parse(schemas.UserUpdate, await form_data(request))
        service.update_user(session, actor=actor, user=current_user(session, actor), data=data)
    if (error := tried.error) is not None:
        return _account(request, session, actor, error=error)
    response = redirect(request, "/account", "Saved.")
    if data.language:
        set_language_cookie(response, data.language)
    return response


@router.post("/account/password")
async def account_password(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        if form.get("new_password") != form.pop("new_password2", None):
            raise HubError("The two passwords differ", code="password_mismatch",
                           field="new_password2")
        from ..core.security import digest

        service.change_password(session, actor=actor, user=current_user(session, actor),
                                data=parse(schemas.PasswordChange, form),
                                keep_session_hash=digest(request.cookies.get(SESSION_COOKIE, "")))
    if (error := tried.error) is not None:
        return _account(request, session, actor, error=error)
    return redirect(request, "/account", "Your password was changed.")


@router.post("/account/tokens")
async def account_token_create(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    scopes = form.get("scopes", ["read"])
    form["scopes"] = scopes if isinstance(scopes, list) else [scopes]
    if form.get("expires_in_days") in ("", "never"):
        form["expires_in_days"] = None
    with attempt(session) as tried:
        data = parse(schemas.TokenCreate, form)
        _, secret = service.create_token(session, actor=actor, user=current_user(session, actor),
                                         data=data)
    if (error := tried.error) is not None:
        return _account(request, session, actor, error=error)
    return redirect(request, "/account#tokens", reveal={"token": secret})


@router.post("/account/tokens/{token_id}/revoke")
def account_token_revoke(token_id: Id, request: Request, session: DbSession,
                         actor: SignedInPageActor) -> Response:
    service.revoke_token(session, actor=actor, user=current_user(session, actor),
                         token_id=token_id)
    return redirect(request, "/account", "The token was revoked.")


# --- notices -------------------------------------------------------------------------------


@router.get("/notices")
def notices(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    """Every domain's notices to the signed-in person, newest first."""
    return render(request, "identity/notices.html",
                  {"notices": service.of_user(session, actor=actor, limit=NOTICES_SHOWN)})


@router.post("/notices/read")
def notices_read(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    service.mark_read(session, actor=actor, now=request.app.state.clock())
    return redirect(request, "/notices")


# --- organizations -------------------------------------------------------------------------


@router.get("/orgs")
def orgs(request: Request, session: DbSession, actor: PageActor,
         cursor: str | None = None) -> Response:
    items, next_cursor = service.list_orgs(session, limit=50, cursor=cursor)
    return render(request, "identity/orgs.html", {"orgs": items, "next_cursor": next_cursor})


@router.get("/orgs/new")
def org_new_form(request: Request, actor: SignedInPageActor) -> Response:
    return render(request, "identity/org_new.html", {"form": {}, "kinds": list(OrgKind)})


@router.post("/orgs/new")
async def org_new(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        org = service.create_org(session, actor=actor, data=parse(schemas.OrganizationCreate, form))
    if (error := tried.error) is not None:
        return _failed(request, session, "identity/org_new.html",
                       {"form": form, "kinds": list(OrgKind), "canonical": "/orgs/new"}, error)
    return redirect(request, f"/orgs/{org.slug}", "The organization was created.")


def _org_page(request: Request, session: Any, actor: Actor, org: Organization,
              **extra: Any) -> Response:
    members: list[Membership] = []
    invitations = []
    if can(actor, "identity.member.list", org):
        members = service.list_members(session, actor=actor, org=org)
        invitations = service.pending_invitations(session, actor=actor, org=org)
    context = {"org": org, "members": members, "invitations": invitations, "roles": list(Role),
               "my_role": actor.role_in(org.id), "canonical": f"/orgs/{org.slug}", **extra}
    return render(request, "identity/org.html", context,
                  status=extra["error"].status if extra.get("error") else 200)


@router.get("/orgs/{slug}")
def org_page(slug: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    return _org_page(request, session, actor, service.get_org_by_slug(session, slug))


@router.post("/orgs/{slug}/edit")
async def org_edit(slug: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    org = service.get_org_by_slug(session, slug)
    with attempt(session) as tried:
        service.update_org(session, actor=actor, org=org,
                           data=parse(schemas.OrganizationUpdate, await form_data(request)))
    if (error := tried.error) is not None:
        return _org_page(request, session, actor, service.get_org_by_slug(session, slug),
                         error=error)
    return redirect(request, f"/orgs/{slug}", "Saved.")


@router.post("/orgs/{slug}/members")
async def org_member_add(slug: str, request: Request, session: DbSession, actor: PageActor,
                         settings: HubSettings) -> Response:
    org = service.get_org_by_slug(session, slug)
    with attempt(session) as tried:
        result = service.add_or_invite(session, actor=actor, org=org,
                                       data=parse(schemas.MembershipCreate,
                                                  await form_data(request)))
    if (error := tried.error) is not None:
        return _org_page(request, session, actor, service.get_org_by_slug(session, slug),
                         error=error)
    if isinstance(result, tuple):
        invitation, secret = result
        return redirect(request, f"/orgs/{slug}", reveal={
            "invite_url": f"{settings.base_url.rstrip('/')}/invite/{secret}",
            "invite_email": invitation.email})
    return redirect(request, f"/orgs/{slug}", "{email} was added.", email=result.user.email)


@router.post("/orgs/{slug}/members/{user_id}/role")
async def org_member_role(slug: str, user_id: Id, request: Request, session: DbSession,
                          actor: PageActor) -> Response:
    org = service.get_org_by_slug(session, slug)
    with attempt(session) as tried:
        service.update_member(session, actor=actor, org=org, user_id=user_id,
                              data=parse(schemas.MembershipUpdate, await form_data(request)))
    if (error := tried.error) is not None:
        return _org_page(request, session, actor, service.get_org_by_slug(session, slug),
                         error=error)
    return redirect(request, f"/orgs/{slug}", "Saved.")


@router.post("/orgs/{slug}/members/{user_id}/remove")
def org_member_remove(slug: str, user_id: Id, request: Request, session: DbSession,
                      actor: PageActor) -> Response:
    org = service.get_org_by_slug(session, slug)
    with attempt(session) as tried:
        service.remove_member(session, actor=actor, org=org, user_id=user_id)
    if (error := tried.error) is not None:
        return _org_page(request, session, actor, service.get_org_by_slug(session, slug),
                         error=error)
    target = f"/orgs/{slug}" if user_id != actor.user_id else "/account"
    return redirect(request, target, "The member was removed.")


# --- invitations ---------------------------------------------------------------------------


@router.get("/invite/{secret}")
def invitation_page(secret: str, request: Request, session: DbSession,
                    actor: PageActor) -> Response:
    invitation = service.get_invitation(session, secret)
    return render(request, "identity/invite.html", {"invitation": invitation, "secret": secret})


@router.post("/invite/{secret}")
def invitation_accept(secret: str, request: Request, session: DbSession,
                      actor: SignedInPageActor) -> Response:
    membership = service.accept_invitation(session, actor=actor, secret=secret)
    session.refresh(membership)
    return redirect(request, f"/orgs/{membership.organization.slug}",
                    "You joined {org}.", org=membership.organization.slug)


# --- operator desk -------------------------------------------------------------------------


@router.get("/admin")
def admin(request: Request, session: DbSession, actor: SignedInPageActor,
          before: OptionalId = None) -> Response:
    events = service.audit_events(session, actor=actor, limit=50, before=before)
    unverified, _ = service.list_orgs(session, limit=200, verified=False)
    return render(request, "admin/index.html", {"events": events, "unverified": unverified})


@router.post("/admin/orgs/{slug}/verify")
def admin_verify_org(slug: str, request: Request, session: DbSession,
                     actor: PageActor) -> Response:
    service.verify_org(session, actor=actor, org=service.get_org_by_slug(session, slug))
    return redirect(request, "/admin", "{org} is now verified.", org=slug)


@router.post("/admin/audit/verify")
def admin_audit_verify(request: Request, session: DbSession, actor: PageActor) -> Response:
    report = service.audit_verify(session, actor=actor,
                                  trusted_key=request.app.state.signing_key.public_key())
    return redirect(request, "/admin", reveal={"audit": report.as_dict()})
