"""Users: creation, lists, passwords, and their guarded transitions."""

from __future__ import annotations

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
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.pagination import paginate
from xinyidai.core.transitions import Machine, Move
from xinyidai.iam import security
from xinyidai.iam.models import Organization, Role, User, UserState
from xinyidai.iam.schemas import Principal
from xinyidai.iam.service.credentials import clear_login_failures, get_user, revoke_user_sessions
from xinyidai.iam.service.rules import (
    StateChanges,
    _choice,
    check_password_rules,
    clean_username,
    optional_email,
    required_text,
)

USERS: Machine[UserState] = Machine(
    kind="user",
    states=UserState,
    subject=User,
    moves=(
        Move("create", (), UserState.ACTIVE),
        Move("lock", (UserState.ACTIVE,), UserState.LOCKED),
        Move("unlock", (UserState.LOCKED,), UserState.ACTIVE),
        Move("disable", (UserState.ACTIVE, UserState.LOCKED), UserState.DISABLED),
        Move("enable", (UserState.DISABLED,), UserState.ACTIVE),
    ),
    # Who moves a user is the routes' check: the operator, or the organization's admin.
    refusal=N_("cannot {transition} a user who is {state}"),
    history=StateChanges(),
)


def _move_user(
    session: Session,
    user: User,
    *,
    transition: str,
    actor: str,
    reason: str | None = None,
) -> User:
    USERS.move(session, user, transition, actor=actor, reason=reason)
    if user.state != UserState.ACTIVE:
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
        actor=actor,
    )


def disable_user(session: Session, *, user: User, actor: str, reason: str | None = None) -> User:
    """Active or locked → disabled (the person left); sessions end at once."""
    return _move_user(
        session,
        user,
        transition="disable",
        actor=actor,
        reason=reason,
    )


def enable_user(session: Session, *, user: User, actor: str) -> User:
    """Disabled → active."""
    return _move_user(
        session,
        user,
        transition="enable",
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
    role: str = Role.STAFF,
    email: str | None = None,
    is_demo: bool = False,
) -> User:
    """Add a member to ``organization``; the username must be free."""
    username = clean_username(username)
    display_name = required_text(display_name, field="display_name", max_length=100)
    role = _choice(role, allowed=tuple(Role), field="role")
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
        is_demo=is_demo,
        password_changed_at=clock.now(),
    )
    session.add(user)
    USERS.begin(session, user, "create", actor=actor)
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
