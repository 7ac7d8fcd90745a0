"""The permission matrix (issue #11): every API operation the URL resolver knows × anonymous, a user
without permissions, each shipped group and a superuser. The expectation comes from the groups'
permissions (scrapersky/access/roles.py) and the operation's model and action, so an endpoint added
later is covered without a new test."""
import uuid

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from curation import registry
from scrapersky.access.roles import REQUEUE_PERMISSION
from tests.conftest import bearer, in_group
from tests.reliability.test_auth import PUBLIC, ROUTES, SAMPLE_VALUES

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "nobody", "viewer", "curator", "operator", "superuser"]
ACTIONS = {"get": "view", "post": "add", "put": "change", "patch": "change", "delete": "delete"}


def _view_class(view):
    return getattr(view, "cls", None) or getattr(view, "view_class", None)


def operations():
    """(path, method, model, action, needs_requeue) for every operation of every API route."""
    found = []
    for path, view in ROUTES:
        rest = path.removeprefix("/api/v3/")
        if rest in PUBLIC or "webhooks/" in path:
            continue
        cls = _view_class(view)
        methods = list(getattr(view, "actions", None) or
                       [m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)])
        for method in methods:
            model = getattr(cls, "permission_model", None)
            if isinstance(model, property):  # generated views name their model per instance (curation.legacy)
                model = model.fget(cls(**getattr(view, "initkwargs", {})))
            if model is None and getattr(cls, "queryset", None) is not None:
                model = cls.queryset.model
            action = ACTIONS[method] if method == "get" else getattr(cls, "permission_action", None) or ACTIONS[method]
            if model is None and "/workflows/" in path and rest != "workflows/":
                model = registry.get(SAMPLE_VALUES["workflow"]).model_class
                action = "view" if method == "get" else "change"
            found.append((path, method, model, action, path.endswith("/requeue")))
    return found


OPERATIONS = operations()


@pytest.fixture
def clients(django_user_model, admin_user):
    made = {"anonymous": APIClient(), "superuser": bearer(APIClient(), admin_user)}
    for role in ("nobody", "viewer", "curator", "operator"):
        user = django_user_model.objects.create_user(username=f"m-{role}", password="pass-123-pass")
        if role != "nobody":
            user = in_group(user, role)
        made[role] = bearer(APIClient(), user)
        made[role].user = user
    return made


def _allowed(role, client, model, action, needs_requeue) -> bool:
    if role == "superuser":
        return True
    if role in ("anonymous", "nobody"):
        return False
    opts = model._meta
    user = client.user
    return user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}") and (
        not needs_requeue or user.has_perm(REQUEUE_PERMISSION))


def test_the_matrix_covers_every_kind_of_operation():
    kinds = {(method, action) for _path, method, _model, action, _rq in OPERATIONS}
    assert {("get", "view"), ("post", "add"), ("put", "change"), ("delete", "delete")} <= kinds
    assert any(rq for *_rest, rq in OPERATIONS)
    assert all(model is not None for path, _m, model, *_rest in OPERATIONS if path != "/api/v3/workflows/"), \
        "every endpoint declares a model (or it is refused to all but superusers)"


@pytest.mark.parametrize("path, method, model, action, needs_requeue", OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m, *_rest in OPERATIONS])
def test_permission_matrix(clients, path, method, model, action, needs_requeue):
    body = {"ids": [str(uuid.uuid4())], "status": "Selected"}
    for role in ROLES:
        client = clients[role]
        response = getattr(client, method)(path, body, format="json")
        if role == "anonymous":
            assert response.status_code == 401, (role, response.status_code)
            continue
        if path == "/api/v3/workflows/":
            assert response.status_code == 200
            continue
        allowed = _allowed(role, client, model, action, needs_requeue)
        if allowed:
            assert response.status_code not in (401, 403), (role, response.status_code, response.content[:200])
        else:
            assert response.status_code == 403, (role, response.status_code, response.content[:200])
            assert "permission" in response.json()["detail"]


def test_the_groups_mean_what_the_docs_say():
    viewer, curator, operator = (set(Group.objects.get(name=n).permissions.values_list(
        "content_type__app_label", "codename")) for n in ("viewer", "curator", "operator"))
    assert ("contacts", "view_contact") in viewer and ("pages", "view_page") in viewer
    assert not any(code.split("_")[0] in ("add", "change", "delete") for _app, code in viewer)
    assert viewer < curator < operator
    assert ("places", "change_place") in curator and ("curation", "requeue_rows") not in curator
    assert ("curation", "requeue_rows") in operator and ("django_q", "add_schedule") in operator
    assert ("places", "add_placesearch") in operator and ("places", "add_placesearch") not in curator
    hand_entries = {("pages", "add_sitemapfile"), ("pages", "add_page"), ("contacts", "add_contact"),
                    ("pages", "delete_sitemapfile"), ("contacts", "delete_contact")}
    assert hand_entries <= operator and not hand_entries & curator
    assert ("places", "delete_place") not in operator and ("pages", "delete_domain") not in operator


def test_the_workflow_list_shows_only_what_the_user_may_view(clients):
    assert clients["nobody"].get("/api/v3/workflows/").json() == []
    names = {row["name"] for row in clients["viewer"].get("/api/v3/workflows/").json()}
    assert names == {wf.name for wf in registry.all_workflows()}


def test_exports_and_stored_html_need_the_view_permission(clients):
    assert clients["nobody"].get("/api/v3/contacts/export/?format=csv").status_code == 403
    assert clients["viewer"].get("/api/v3/contacts/export/?format=csv").status_code == 200
    assert clients["nobody"].get("/api/v3/pages/?html=1").status_code == 403
    assert clients["viewer"].get("/api/v3/pages/?html=1").status_code == 200


def test_requeue_and_reprocess_are_the_operators(clients):
    from tests.factories import WidgetFactory

    row = WidgetFactory()
    url = "/api/v3/workflows/widget_check/status"
    payload = {"ids": [str(row.pk)], "status": "Selected", "reprocess": True}
    assert clients["curator"].put(url, payload, format="json").status_code == 403
    assert clients["operator"].put(url, payload, format="json").status_code == 200
    requeue = {"ids": [str(row.pk)]}
    assert clients["curator"].post("/api/v3/workflows/widget_check/requeue", requeue, format="json").status_code == 403
    assert clients["operator"].post("/api/v3/workflows/widget_check/requeue", requeue, format="json").status_code == 200


def test_admin_requeue_actions_are_the_operators_too(client, django_user_model):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from tests.testapp.models import Widget

    model_admin = django_admin.site._registry[Widget]
    names = {}
    for role in ("curator", "operator"):
        user = django_user_model.objects.create_user(username=f"a-{role}", password="pass-123-pass", is_staff=True)
        request = RequestFactory().get("/admin/")
        request.user = in_group(user, role)
        names[role] = set(model_admin.get_actions(request))
    assert "widget_check__selected" in names["curator"]
    assert not any(n.endswith(("__rerun", "__retry_errors")) for n in names["curator"])
    assert {"widget_check__rerun", "widget_check__retry_errors"} <= names["operator"]
