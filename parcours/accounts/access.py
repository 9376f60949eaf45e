"""Access rules: every view declares who may use it.

    @access(Role.COORDINATOR, Role.MANAGER)   # logged in, with one of these roles here
    @access(AUTHENTICATED)                    # any logged-in user with a membership
    @access(PUBLIC)                           # anyone, no login

The rule is stored on the view as ``view.access_rule`` so that a test can walk the URL
configuration and fail for a view without one. Third-party views (allauth) get their
rule with :func:`declare_patterns` in ``urls.py``.

Denials: anonymous users are sent to the login page; a logged-in user without the role
gets 403. Objects of another organisation are never reached: selectors filter by the
request's organisation, so they answer 404.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, URLResolver

from .models import Role

PUBLIC = "public"
AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class AccessRule:
    public: bool = False
    roles: frozenset[str] = frozenset()  # empty and not public: any member

    def describe(self) -> str:
        if self.public:
            return PUBLIC
        return ",".join(sorted(self.roles)) or AUTHENTICATED

    def check(self, request) -> None:
        """Raise or return a redirect when the request may not use the view."""
        if self.public:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = getattr(request, "membership", None)
        if membership is None:
            raise PermissionDenied("no active membership")
        if self.roles and membership.role not in self.roles:
            raise PermissionDenied("role not allowed")
        return None


def _rule(spec: Iterable[str]) -> AccessRule:
    spec = tuple(spec)
    if spec == (PUBLIC,):
        return AccessRule(public=True)
    if spec == (AUTHENTICATED,):
        return AccessRule()
    unknown = set(spec) - set(Role.values)
    if not spec or unknown:
        raise ValueError(f"access(): unknown roles {sorted(unknown)}")
    return AccessRule(roles=frozenset(spec))


def access(*spec: str) -> Callable:
    """Decorate a view function (or ``View.as_view()``) with its access rule."""
    rule = _rule(spec)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            denied = rule.check(request)
            if denied is not None:
                return denied
            return view(request, *args, **kwargs)

        wrapped.access_rule = rule
        return wrapped

    return decorator


def declare_patterns(patterns: list, default: Iterable[str], overrides: dict | None = None) -> list:
    """Give third-party URL patterns an explicit rule, by URL name (recursively)."""
    overrides = overrides or {}
    declared = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            pattern.url_patterns  # noqa: B018  (force import)
            declared.append(
                URLResolver(
                    pattern.pattern,
                    declare_patterns(pattern.url_patterns, default, overrides),
                    pattern.default_kwargs,
                    pattern.app_name,
                    pattern.namespace,
                )
            )
        elif isinstance(pattern, URLPattern):
            spec = overrides.get(pattern.name, default)
            callback = access(*spec)(pattern.callback)
            declared.append(
                URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name)
            )
        else:  # pragma: no cover
            raise TypeError(pattern)
    return declared
