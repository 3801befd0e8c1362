"""Background jobs of the recycle bin (run by the django-q2 worker)."""

from . import services


def purge_recycle_bin() -> int:
    """Scheduled daily: purge the entries past their expiry (files after commit)."""
    return services.purge_expired()
