"""`seed_volume` (bench-only synthetic rows at server speed) and its generic row generator."""
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from curation import registry
from curation.seeding import seed_rows

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_only):
    pass


def seed(**sizes):
    call_command("seed_volume", stdout=open("/dev/null", "w"), **sizes)


def test_it_fills_every_table_with_the_asked_sizes_and_links_them():
    seed(places=400, businesses=200, domains=20, pages=1000, contacts=600)
    Place, Page, Contact, Domain = (apps.get_model(*m.split(".")) for m in
                                     ("places.Place", "pages.Page", "contacts.Contact", "pages.Domain"))
    assert (Place.objects.count(), Page.objects.count(), Contact.objects.count(), Domain.objects.count()) == (
        400, 1000, 600, 20)
    assert Page.objects.filter(domain__isnull=True).count() == 0
    assert Page.objects.values("domain").distinct().count() == 20, "pages spread over every domain"
    assert Contact.objects.filter(is_role=True).count() == 30, "a twentieth are role addresses (the export bench)"


def test_statuses_have_a_realistic_spread_that_the_engine_accepts():
    seed(places=1000, pages=0, contacts=0, businesses=0, domains=0)
    wf = registry.get("deep_scan")
    Place = wf.model_class
    by_status = {s: Place.objects.filter(**{wf.status_field: s}).count() for s in ("Queued", "Completed", "Error")}
    assert by_status == {"Queued": 20, "Completed": 150, "Error": 50}
    assert Place.objects.filter(**{wf.curation_field: "New", f"{wf.status_field}__isnull": True}).count() == 700
    errors = Place.objects.filter(**{wf.status_field: "Error"})
    assert not errors.filter(**{wf.f("error_class"): ""}).exists(), "every error has its class"
    from curation import services

    claim = services.processing_claim(workflow=wf, worker_id="test:1", limit=100)
    assert len(claim.ids) == 20, "the Queued rows are due and claimable"


def test_it_refuses_tables_that_hold_data_and_changes_nothing():
    seed(places=10, businesses=0, domains=0, pages=0, contacts=0)
    with pytest.raises(CommandError, match="hold data: places"):
        seed(places=10, businesses=0, domains=0, pages=0, contacts=0)
    assert apps.get_model("places", "Place").objects.count() == 10


def test_pages_without_domains_are_refused():
    with pytest.raises(CommandError, match="at least one domain"):
        seed(places=0, businesses=0, domains=0, pages=5, contacts=0)


def test_seed_rows_names_a_required_field_it_cannot_fill():
    Place = apps.get_model("places", "Place")
    with pytest.raises(ValueError, match="first_seen_at has no default"):
        seed_rows(model=Place, count=1, columns={"place_id": "'x' || i"})
    with pytest.raises(ValueError, match="no field"):
        seed_rows(model=Place, count=1, columns={"nope": "1"})
