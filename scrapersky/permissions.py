"""The API's default permission (kept apart from scrapersky.api: DRF imports it while loading its views)."""
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadAuthenticatedWriteModelPermissions(BasePermission):
    """Any authenticated user reads; writing needs the model's add/change/delete permission.

    Views without a queryset (the workflow endpoints) check their own permission.
    """

    perms_map = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return True
        action = self.perms_map.get(request.method)
        if action is None:
            return False
        opts = queryset.model._meta
        if not request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            raise PermissionDenied(f"This needs the {action} permission on {opts.verbose_name_plural}")
        return True
