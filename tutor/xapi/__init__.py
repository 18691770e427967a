"""Learning records for an xAPI Learning Record Store: statements built where learning happens, queued in the
outbox with the rows they report, and delivered to the LRS by the worker (`delivery`)."""

from tutor.settings import Settings


def enabled(settings: Settings) -> bool:
    """Nothing is recorded unless an LRS is configured."""
    return bool(settings.xapi_endpoint)
