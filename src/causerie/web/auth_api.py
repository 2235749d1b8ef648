"""Accounts over HTTP: `/api/v1/auth/*` (login, logout, one-time links) and `/api/v1/me`.

See docs/api.md "Accounts". The login cookie is set and cleared here, and nowhere else.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from causerie.actions.accounts import (
    LOGIN_COOKIE,
    LoggedIn,
    csrf_token,
    do_accept_link,
    do_change_password,
    do_login,
    do_logout,
    do_rename,
    do_set_language,
    get_language,
    get_link,
    get_me,
)
from causerie.actions.blocks import shield_admin_refusal
from causerie.actions.mail import do_set_notification_preferences, get_notification_preferences
from causerie.domain.languages import check_language
from causerie.domain.mail import check_preferences
from causerie.domain.models import Scope
from causerie.domain.wire import operator_json
from causerie.runtime import Runtime
from causerie.web.api_models import (
    ERRORS,
    AcceptIn,
    LinkIn,
    LinkOut,
    LoginIn,
    LoginOut,
    MeOut,
    MePatch,
    MePatchOut,
    PasswordIn,
)
from causerie.web.deps import ClientIp, CurrentActor, LoginToken, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=ERRORS, route_class=LeanRoute)


def _logged_in(rt: Runtime, done: LoggedIn) -> JSONResponse:
    response = JSONResponse(
        {"operator": operator_json(done.operator), "csrf_token": csrf_token(rt, done.token)}
    )
    response.set_cookie(
        LOGIN_COOKIE,
        done.token,
        max_age=int(rt.settings.login_ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=rt.settings.public_url.startswith("https://"),
    )
    return response


@router.post(
    "/auth/login",
    response_model=LoginOut,
    summary="Log in with email and password; sets the login cookie",
    responses={
        401: {"description": "wrong email or password"},
        429: {"description": "too many failures"},
    },
    openapi_extra=access("public"),
)
async def login(body: LoginIn, rt: Rt, ip: ClientIp) -> JSONResponse:
    return _logged_in(rt, await do_login(rt, body.email, body.password, ip))


@router.post(
    "/auth/logout",
    status_code=204,
    summary="End this login",
    openapi_extra=access("login"),
)
async def logout(rt: Rt, actor: CurrentActor) -> Response:
    await do_logout(rt, actor)
    response = Response(status_code=204)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post(
    "/auth/link",
    response_model=LinkOut,
    summary="What a one-time link (first owner, invitation) is for",
    openapi_extra=access("public"),
)
async def inspect_link(body: LinkIn, rt: Rt) -> dict[str, object]:
    info = await get_link(rt, body.token)
    return {
        "purpose": info.link.purpose.value,
        "email": info.email,
        "websites": [{"id": w.id, "name": w.name, "role": r.value} for w, r in info.websites],
        "has_account": info.has_account,
    }


@router.post(
    "/auth/accept",
    response_model=LoginOut,
    summary="Use a one-time link (a new account's name and password, or a login), and log in",
    openapi_extra=access("public"),
)
async def accept_link(body: AcceptIn, rt: Rt, ip: ClientIp) -> JSONResponse:
    done = await do_accept_link(
        rt, body.token, name=body.name, password=body.password, email=body.email, client_ip=ip
    )
    return _logged_in(rt, done)


@router.get(
    "/me",
    response_model=MeOut,
    summary="Who is calling, their websites and roles",
    openapi_extra=access("login"),
)
async def me(rt: Rt, actor: CurrentActor, login_token: LoginToken) -> dict[str, object]:
    operator, memberships = await get_me(rt, actor)
    return {
        "operator": operator_json(operator),
        "websites": [{"id": w.id, "name": w.name, "role": r.value} for w, r in memberships],
        "csrf_token": csrf_token(rt, login_token) if actor.via_login and login_token else None,
        "via": "cookie" if actor.via_login else "token",
        "notification_preferences": await get_notification_preferences(rt, actor),
        "language": await get_language(rt, actor),
        "shield_admin": shield_admin_refusal(rt, actor, operator, Scope.READ) is None,
    }


@router.patch(
    "/me",
    response_model=MePatchOut,
    summary="Change one's display name, notification preferences or language",
    openapi_extra=access("login"),
)
async def change_me(body: MePatch, rt: Rt, actor: CurrentActor) -> dict[str, object]:
    # Everything checked before any change: all or nothing.
    if body.notification_preferences is not None:
        check_preferences(body.notification_preferences)
    language_given = "language" in body.model_fields_set
    language = check_language(body.language)
    if body.name is not None:
        operator = await do_rename(rt, actor, body.name)
    else:
        operator, _ = await get_me(rt, actor)
    if body.notification_preferences is not None:
        preferences = await do_set_notification_preferences(
            rt, actor, body.notification_preferences
        )
    else:
        preferences = await get_notification_preferences(rt, actor)
    if language_given:
        language = await do_set_language(rt, actor, language)
    else:
        language = await get_language(rt, actor)
    return {
        "operator": operator_json(operator),
        "notification_preferences": preferences,
        "language": language,
    }


@router.post(
    "/me/password",
    status_code=204,
    summary="Change one's password; ends every other login",
    openapi_extra=access("login"),
)
async def change_password(body: PasswordIn, rt: Rt, actor: CurrentActor) -> Response:
    await do_change_password(rt, actor, body.current_password, body.new_password)
    return Response(status_code=204)
