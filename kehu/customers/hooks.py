"""Registrations into the core registries (attachments, change-log visibility)."""

from kehu.core.registry import attachment_visibility, log_visibility

from .selectors import visible_customers

attachment_visibility["customers.customer"] = visible_customers
log_visibility["customers.customer"] = visible_customers
