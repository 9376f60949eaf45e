import pytest

from parcours.territory.models import Commune
from parcours.territory.services import communes_import


@pytest.fixture(scope="module")
def official_communes(django_db_setup, django_db_blocker):
    """The shipped official list, imported once for a module whose tests only read it.

    Written outside the tests' transactions (an import takes a few seconds), and removed
    when the module is done so that other tests start from an empty table.
    """
    with django_db_blocker.unblock():
        report = communes_import()
        assert report.ok, report.summary()
        yield report
        Commune.objects.filter(parent__isnull=False).delete()
        Commune.objects.all().delete()
