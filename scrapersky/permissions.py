"""The API's default permission (kept apart from scrapersky.api: DRF imports it while loading its views).

The same rule as the admin: reading needs the model's `view` permission,
writing its `add` / `change` / `delete` permission. Which model:

- the view's `permission_model` if it declares one (views without a queryset;
  `permission_action` then names the permission its writes need, e.g. "change");
- else its queryset's model;
- else the workflow named in the URL (`/workflows/<workflow>/...`): reading
  needs `view`, any change (status, requeue) needs `change`; the views check
  the extra requeue permission themselves.

A view with none of these is refused to everyone but superusers: a new
endpoint is closed until it says what it exposes.
"""
from __future__ import annotations

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from scrapersky.access.roles import REQUEUE_PERMISSION

__all__ = ["ModelPermissions", "ReadAuthenticatedWriteModelPermissions", "permission_model", "require_requeue"]


def permission_model(view):
    """The model whose permissions guard `view`, or None."""
    model = getattr(view, "permission_model", None)
    if model is not None:
        return model
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        return queryset.model
    workflow = getattr(view, "kwargs", {}).get("workflow")
    if workflow:
        from curation import registry

        return registry.get(workflow).model_class  # an unknown workflow: 404 from the exception handler
    return None


class ModelPermissions(BasePermission):
    """Authenticated, and the model permission of the method (view for GET/HEAD/OPTIONS)."""

    perms_map = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
                 "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        model = permission_model(view)
        if model is None:
            if user.is_superuser:
                return True
            raise PermissionDenied("This endpoint declares no model permission; only superusers may use it.")
        action = self.perms_map.get(request.method)
        if action is None:
            return False
        if action != "view" and getattr(view, "permission_action", None):
            action = view.permission_action  # e.g. a POST that queues rows changes them, it adds nothing
        if action != "view" and getattr(view, "kwargs", {}).get("workflow") and getattr(
                view, "permission_model", None) is None and getattr(view, "queryset", None) is None:
            action = "change"  # status changes and requeues change rows; they add or delete nothing
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            raise PermissionDenied(f"This needs the {action} permission on {opts.verbose_name_plural}")
        return True


# The name settings and older code use.
ReadAuthenticatedWriteModelPermissions = ModelPermissions


def require_requeue(user) -> None:
    """Requeue, retry and re-run are the operator's (group `operator`, permission curation.requeue_rows)."""
    if not user.has_perm(REQUEUE_PERMISSION):
        raise PermissionDenied("Requeueing, retrying or re-running rows needs the requeue permission "
                               "(the operator group)")
