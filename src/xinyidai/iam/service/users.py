"""Users: creation, lists, passwords, and their guarded transitions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from xinyidai.core.ids import new_id
from xinyidai.core.pagination import paginate
from xinyidai.iam import security
from xinyidai.iam.models import (
    ROLE_STAFF,
    ROLES,
    USER_ACTIVE,
    USER_DISABLED,
    USER_LOCKED,
    Organization,
    User,
)
from xinyidai.iam.schemas import Principal
from xinyidai.iam.service.credentials import clear_login_failures, get_user, revoke_user_sessions
from xinyidai.iam.service.rules import (
    _choice,
    _record,
    check_password_rules,
    clean_username,
    optional_email,
    required_text,
)


def _move_user(
    session: Session,
    user: User,
    *,
    transition: str,
    allowed_from: Sequence[str],
    to_state: str,
    actor: str,
    reason: str | None = None,
) -> User:
    if user.state not in allowed_from:
        raise Conflict(
            "cannot {transition} a user who is {state}",
            field="state",
            transition=transition,
            state=user.state,
        )
    previous = user.state
    user.state = to_state
    user.state_changed_at = clock.now()
    user.state_changed_by = actor
    _record(
        session,
        subject_type="user",
        subject_id=user.id,
        transition=transition,
        from_state=previous,
        to_state=to_state,
        actor=actor,
        reason=reason,
    )
    if to_state != USER_ACTIVE:
        revoke_user_sessions(session, user_id=user.id)
    session.flush()
    return user


def check_not_own_account(principal: Principal, user: User) -> None:
    """Nobody changes the state of their own account (an administrator would lock or disable
    themselves out): the API, the portal and the console refuse it alike."""
    if principal.user_id is not None and user.id == principal.user_id:
        raise Forbidden("you cannot change your own account's state", field="state")


def lock_user(session: Session, *, user: User, actor: str, reason: str | None = None) -> User:
    """Active → locked by an administrator; sign-in refused until unlocked."""
    return _move_user(
        session,
        user,
        transition="lock",
        allowed_from=(USER_ACTIVE,),
        to_state=USER_LOCKED,
        actor=actor,
        reason=reason,
    )


def unlock_user(session: Session, *, user: User, actor: str) -> User:
    """Locked → active; also forgets recent failed sign-ins."""
    clear_login_failures(session, username=user.username)
    return _move_user(
        session,
        user,
        transition="unlock",
        allowed_from=(USER_LOCKED,),
        to_state=USER_ACTIVE,
        actor=actor,
    )


def disable_user(session: Session, *, user: User, actor: str, reason: str | None = None) -> User:
    """Active or locked → disabled (the person left); sessions end at once."""
    return _move_user(
        session,
        user,
        transition="disable",
        allowed_from=(USER_ACTIVE, USER_LOCKED),
        to_state=USER_DISABLED,
        actor=actor,
        reason=reason,
    )


def enable_user(session: Session, *, user: User, actor: str) -> User:
    """Disabled → active."""
    return _move_user(
        session,
        user,
        transition="enable",
        allowed_from=(USER_DISABLED,),
        to_state=USER_ACTIVE,
        actor=actor,
    )


# --------------------------------------------------------------------------- users


def get_user_or_raise(session: Session, *, username: str) -> User:
    """The user with this username; ``NotFound`` otherwise."""
    user = get_user(session, username=username)
    if user is None:
        raise NotFound("no user {username}", field="username", username=username)
    return user


def get_user_by_public_id_or_raise(session: Session, *, public_id: str) -> User:
    """The user with this public id; ``NotFound`` otherwise."""
    user = session.scalar(select(User).where(User.public_id == public_id))
    if user is None:
        raise NotFound("no user {username}", field="user", username=public_id)
    return user


def get_member_or_raise(session: Session, *, organization_id: int, public_id: str) -> User:
    """A user of this organization; ``NotFound`` for users of others too."""
    user = session.scalar(
        select(User).where(User.public_id == public_id, User.organization_id == organization_id)
    )
    if user is None:
        raise NotFound("no user {username}", field="user", username=public_id)
    return user


def create_user(
    session: Session,
    *,
    organization: Organization,
    username: str,
    display_name: str,
    password: str,
    actor: str,
    role: str = ROLE_STAFF,
    email: str | None = None,
    is_demo: bool = False,
) -> User:
    """Add a member to ``organization``; the username must be free."""
    username = clean_username(username)
    display_name = required_text(display_name, field="display_name", max_length=100)
    role = _choice(role, allowed=ROLES, field="role")
    email = optional_email(email)
    password = check_password_rules(password, user_inputs=(username, display_name, email))
    if get_user(session, username=username) is not None:
        raise Conflict("the username {username} is taken", field="username", username=username)
    user = User(
        public_id=new_id("usr"),
        username=username,
        display_name=display_name,
        email=email,
        password_hash=security.hash_password(password),
        organization_id=organization.id,
        organization=organization,
        role=role,
        state=USER_ACTIVE,
        is_demo=is_demo,
        password_changed_at=clock.now(),
        state_changed_at=clock.now(),
        state_changed_by=actor,
    )
    session.add(user)
    session.flush()
    _record(
        session,
        subject_type="user",
        subject_id=user.id,
        transition="create",
        from_state=None,
        to_state=USER_ACTIVE,
        actor=actor,
        reason=None,
    )
    session.flush()
    return user


def users_statement(*, organization_id: int | None = None, q: str | None = None) -> Select[Any]:
    """Users (by username) matching the filters."""
    stmt = select(User).order_by(User.username)
    if organization_id is not None:
        stmt = stmt.where(User.organization_id == organization_id)
    if q and q.strip():
        text = q.strip()
        stmt = stmt.where(
            or_(User.username.contains(text.lower()), User.display_name.contains(text))
        )
    return stmt


def list_users(
    session: Session,
    *,
    organization_id: int | None = None,
    q: str | None = None,
    page: int = 1,
    size: int = 20,
) -> tuple[list[User], int]:
    """One page of ``users_statement`` and the total (for services and scripts; an entry
    point shows a page through ``core.pagination.page_of``)."""
    return paginate(
        session, users_statement(organization_id=organization_id, q=q), page=page, size=size
    )


def _words_of(user: User) -> tuple[str | None, ...]:
    # What an attacker who knows the account tries first.
    return (user.username, user.display_name, user.email)


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session_id: int | None = None,
) -> User:
    """Replace the user's password after checking the current one; other sessions end."""
    if not security.verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed("the current password is wrong", field="current_password")
    new_password = check_password_rules(
        new_password, field="new_password", user_inputs=_words_of(user)
    )
    if security.verify_password(user.password_hash, new_password):
        raise ValidationFailed(
            "the new password must differ from the current one", field="new_password"
        )
    user.password_hash = security.hash_password(new_password)
    user.password_changed_at = clock.now()
    revoke_user_sessions(session, user_id=user.id, except_id=keep_session_id)
    session.flush()
    return user


def reset_password(session: Session, *, user: User, new_password: str, actor: str) -> User:
    """Set a new password for the user (operator or command line); every session ends."""
    new_password = check_password_rules(new_password, user_inputs=_words_of(user))
    user.password_hash = security.hash_password(new_password)
    user.password_changed_at = clock.now()
    user.state_changed_by = actor
    clear_login_failures(session, username=user.username)
    revoke_user_sessions(session, user_id=user.id)
    session.flush()
    return user
