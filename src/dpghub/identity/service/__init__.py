"""Every identity rule, by subject: organizations, accounts and signing in, web sign-ins,
personal API tokens, members and invitations, what operators read, and the portal notices
every domain leaves in a person's inbox.

Functions take a session and the acting `Actor`, check permission with `authorize`, change
state, write the audit event, and flush. The caller (request or command) commits once. Other
domains use them as `identity.service.<function>`.
"""

from .accounts import (  # noqa: F401
    SignInResult,
    authenticate,
    change_password,
    create_user,
    email_taken,
    get_user,
    get_user_by_email,
    set_password,
    update_user,
)
from .members import (  # noqa: F401
    INVITATION_DAYS,
    accept_invitation,
    add_member,
    add_or_invite,
    get_invitation,
    invitation_read,
    invite,
    list_members,
    membership_reads,
    pending_invitations,
    remove_member,
    update_member,
    user_read,
)
from .notices import (  # noqa: F401
    mark_read,
    notify,
    of_user,
    unread_count,
)
from .operator import (  # noqa: F401
    audit_events,
    audit_verify,
    set_platform_role,
    users_with_role,
)
from .orgs import (  # noqa: F401
    counts,
    create_org,
    fingerprint,
    get_org_by_id,
    get_org_by_slug,
    list_orgs,
    orgs_of,
    update_org,
    verify_org,
)
from .sessions import (  # noqa: F401
    actor_from_web_session,
    end_web_session,
    start_web_session,
)
from .tokens import (  # noqa: F401
    LAST_USED_RESOLUTION,
    actor_from_token,
    create_token,
    list_tokens,
    revoke_token,
)
