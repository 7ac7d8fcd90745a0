"""Admin: generated bulk actions, error-class retry page, status columns and filters, history, operator page."""
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from curation.models import CurationEvent
from tests.factories import WidgetFactory
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:testapp_widget_changelist"


def post_action(client, action, rows, **extra):
    return client.post(
        reverse(CHANGELIST), {ACTION_CHECKBOX_NAME: [str(r.pk) for r in rows], "action": action, "index": 0, **extra}
    )


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_changelist_has_generated_actions_columns_and_filters(admin_client):
    WidgetFactory(errored=True)
    response = admin_client.get(reverse(CHANGELIST))
    content = response.content.decode()
    for action in ["widget_check__selected", "widget_check__maybe", "widget_check__rejected", "widget_check__archived",
                   "widget_check__new", "widget_check__rerun", "widget_check__retry_errors",
                   "widget_check__retry_errors_of_class", "widget_index__rerun", "widget_index__retry_errors"]:
        assert f'value="{action}"' in content, action
    assert "Widget check: mark as Selected (queues widget check)" in content
    assert '<b class="s-Error">Error</b>' in content
    assert "[not_found] HTTP 404 from https://example.com/" in content
    assert "?widget_check=Error" in content, "filter by the workflow's states"
    assert "?widget_check_error_class__exact=not_found" in content, "filter by error class"


def test_select_action_queues_and_reports(admin_client, admin_user):
    rows = WidgetFactory.create_batch(3)
    response = post_action(admin_client, "widget_check__selected", rows)
    assert response.status_code == 302
    assert messages_of(response) == ["Widget check: 3 row(s) marked Selected: 3 queued."]
    assert set(Widget.objects.values_list("widget_check_processing_status", flat=True)) == {"Queued"}
    assert set(CurationEvent.objects.values_list("source", "actor_label")) == {("admin", admin_user.username)}


def test_action_error_is_an_admin_message_and_changes_nothing(admin_client, settings):
    settings.CURATION_MAX_BATCH = 1
    rows = WidgetFactory.create_batch(2)
    response = post_action(admin_client, "widget_check__selected", rows)
    assert messages_of(response) == ["Widget check: Too many ids: 2; the limit is 1 per request"]
    assert set(Widget.objects.values_list("widget_check_processing_status", flat=True)) == {None}


def test_rerun_requeues_completed_rows(admin_client):
    done = WidgetFactory(completed=True)
    post_action(admin_client, "widget_check__selected", [done])
    assert Widget.objects.get().widget_check_processing_status == "Completed"
    post_action(admin_client, "widget_check__rerun", [done])
    assert Widget.objects.get().widget_check_processing_status == "Queued"


def test_retry_errors_of_class_asks_then_applies(admin_client):
    a = WidgetFactory(errored=True)
    b = WidgetFactory(errored=True, widget_check_error_class="timeout")
    page = post_action(admin_client, "widget_check__retry_errors_of_class", [a, b])
    assert page.status_code == 200
    content = page.content.decode()
    assert '<option value="timeout">timeout (1)</option>' in content
    assert '<option value="not_found">not_found (1)</option>' in content
    response = post_action(admin_client, "widget_check__retry_errors_of_class", [a, b], apply="1", error_class="timeout")
    assert response.status_code == 302
    states = dict(Widget.objects.values_list("pk", "widget_check_processing_status"))
    assert states == {a.pk: "Error", b.pk: "Queued"}


def test_actions_need_the_change_permission(client, django_user_model):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user(username="staff", password="pw-123456789", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_widget"))
    client.force_login(staff)
    WidgetFactory()
    content = client.get(reverse(CHANGELIST)).content.decode()
    assert "widget_check__selected" not in content


def test_change_page_shows_history_and_read_only_statuses(admin_client):
    w = WidgetFactory()
    post_action(admin_client, "widget_check__maybe", [w])
    post_action(admin_client, "widget_check__selected", [w])
    content = admin_client.get(reverse("admin:testapp_widget_change", args=[w.pk])).content.decode()
    assert "Status history" in content
    assert "New → Maybe" in content and "Maybe → Selected" in content and "— → Queued" in content
    assert 'name="widget_check_processing_status"' not in content, "statuses change only through actions"


def test_operator_page_lists_every_workflow(admin_client):
    WidgetFactory.create_batch(2, queued=True)
    WidgetFactory(errored=True, widget_check_error_class="timeout")
    response = admin_client.get(reverse("curation-operator"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-workflow="widget_check"' in content and 'data-workflow="widget_index"' in content
    assert "timeout: 1" in content


def test_operator_page_requires_staff(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("curation-operator"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_audit_trail_admin_is_read_only(admin_client):
    w = WidgetFactory()
    post_action(admin_client, "widget_check__maybe", [w])
    event = CurationEvent.objects.get()
    assert admin_client.get(reverse("admin:curation_curationevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:curation_curationevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:curation_curationevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert CurationEvent.objects.count() == 1


def test_operator_page_orders_the_chain_and_links_counts_to_the_rows(admin_client):
    WidgetFactory(queued=True)
    WidgetFactory(errored=True, widget_check_error_class="timeout")
    content = admin_client.get(reverse("curation-operator")).content.decode()
    order = [name for name in ("place_search", "deep_scan", "domain_extraction", "sitemap_discovery",
                               "sitemap_import", "page_scrape", "contact_extraction", "contact_validation",
                               "webhook_sync")]
    positions = [content.index(f'data-workflow="{name}"') for name in order]
    assert positions == sorted(positions), "workflows in chain order"
    numbers = [n for n in (content.split('class="wf-number">')[i].split("<")[0] for i in range(1, 14))]
    assert numbers == ["1", "2", "3", "4", "5", "6", "7", "8", "9a", "9b", "9c", "—", "—"], numbers
    changelist = reverse("admin:testapp_widget_changelist")
    assert f"{changelist}?widget_check=Queued" in content
    assert f"{changelist}?widget_check=Error" in content
    assert 'class="b count s-Error" data-key="Error"' in content, "counts in the badge colours"
    listed = admin_client.get(f"{changelist}?widget_check=Error")
    assert listed.status_code == 200 and listed.context["cl"].result_count == 1


def test_status_badges_are_styled_by_class_in_readable_colours():
    import re
    from pathlib import Path

    from curation.admin import BADGE_COLOURS, status_badge

    def luminance(hex_colour):
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    css = (Path(__file__).resolve().parents[2] / "curation/static/curation/admin.css").read_text()
    in_css = dict(re.findall(r"\.s-(\w+) \{ --k: (#[0-9a-f]{6}); \}", css))
    assert {k: v for k, v in in_css.items() if k != "none"} == BADGE_COLOURS, "the stylesheet has every colour"
    for status, colour in BADGE_COLOURS.items():
        assert 1.05 / (luminance(colour) + 0.05) >= 4.5, f"white on {status} ({colour}) below WCAG AA"
    assert status_badge("Queued") == '<b class="s-Queued">Queued</b>'
    assert status_badge("Maybe", curation=True) == '<i class="s-Maybe">Maybe</i>'
    assert status_badge("<script>") == '<b class="s-x">&lt;script&gt;</b>', "unknown values are escaped"


def test_the_error_class_filter_offers_only_classes_that_occur(admin_client):
    WidgetFactory(errored=True, widget_check_error_class="timeout")
    WidgetFactory()
    response = admin_client.get(reverse(CHANGELIST))
    spec = next(f for f in response.context["cl"].filter_specs if f.title == "Widget check error class")
    assert [value for value, _label in spec.lookup_choices] == ["timeout"], "no empty choice"
    assert response.content.decode().count("widget_check_error_class__exact=\"") == 0


def test_a_read_only_change_page_has_no_save_buttons(admin_client):
    from tests.factories import FACTORIES

    contact = FACTORIES["contacts.Contact"]()  # every field of a contact is read-only
    content = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()
    assert 'name="_save"' not in content and 'name="_continue"' not in content
    widget = WidgetFactory()  # a widget's name is editable: the buttons stay
    content = admin_client.get(reverse("admin:testapp_widget_change", args=[widget.pk])).content.decode()
    assert 'name="_save"' in content


def test_the_live_status_endpoint_renders_the_asked_rows(admin_client, client, viewer):
    queued, done = WidgetFactory(queued=True), WidgetFactory(completed=True)
    url = reverse("admin:testapp_widget_live_status")
    body = admin_client.get(url, {"id": [str(queued.pk), str(done.pk), "not-an-id"]}).json()
    assert body["busy"] == [str(queued.pk)]
    assert body["rows"][str(queued.pk)]["widget_check"]["html"] == '<b class="s-Queued">Queued</b>'
    assert body["rows"][str(done.pk)]["widget_check"]["status"] == "Completed"
    client.force_login(viewer)
    assert client.get(url, {"id": [str(queued.pk)]}).status_code in (302, 403), "staff with view permission only"


def test_the_operator_page_shows_the_dashboard(admin_client):
    from django.utils import timezone

    from tests.places.factories import PlaceFactory, PlaceSearchFactory

    PlaceSearchFactory(ran=True)  # completed this hour too
    PlaceFactory.create_batch(3)
    WidgetFactory(completed=True, widget_check_processed_at=timezone.now())
    WidgetFactory(errored=True, widget_check_error_class="timeout", widget_check_processed_at=timezone.now())
    response = admin_client.get(reverse("curation-operator"))
    content = response.content.decode()
    funnel = {s["key"]: s for s in response.context["funnel"]}
    assert list(funnel)[:3] == ["searches", "places", "businesses"] and list(funnel)[-1] == "synced"
    assert funnel["places"]["count"] == 3 and funnel["places"]["conversion"] == "×3.0"
    assert 'data-stage="validated"' in content and "Google Places spend" in content
    assert ("timeout", 1) in response.context["errors_by_class"]
    assert response.context["chart"]["total_ok"] == 2 and response.context["chart"]["total_error"] == 1
    assert content.count('<rect class="bar-ok"') == 1 and content.count('<rect class="bar-err"') == 1
    status = admin_client.get(reverse("curation-operator-status")).json()
    widget = next(w for w in status["workflows"] if w["name"] == "widget_check")
    assert widget["processing_counts"]["Completed"] == 1 and widget["in_flight"] == 0
