from django.conf import settings


def parcours(request) -> dict:
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        "current_role": membership.role if membership else None,
        "organisation": membership.organisation if membership else None,
        "DEMO": settings.DEMO,
    }
