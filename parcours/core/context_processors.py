from functools import partial

from django.conf import settings

from parcours.accounts.selectors import memberships_for_user


def parcours(request) -> dict:
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    return {
        "membership": membership,
        "current_role": membership.role if membership else None,
        "organisation": membership.organisation if membership else None,
        # Evaluated only by templates that use it (the organisation switch in the nav).
        "user_memberships": partial(memberships_for_user, user=user)
        if user is not None and user.is_authenticated
        else list,
        "DEMO": settings.DEMO,
    }
