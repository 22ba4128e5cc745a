"""A trial's registrations in other registries, and where a registry shows a trial of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from .choices import Registry

if TYPE_CHECKING:
    from .models import Trial

# The public page of a trial, by registry; WHO's ICTRP portal shows the trials of every registry it gathers.
REGISTRY_PAGES = {
    Registry.CTGOV: "https://clinicaltrials.gov/study/{id}",
    Registry.CHICTR: "https://www.chictr.org.cn/searchprojEN.html?regno={id}",
    Registry.ISRCTN: "https://www.isrctn.com/{id}",
    Registry.ANZCTR: "https://www.anzctr.org.au/{id}.aspx",
    Registry.DRKS: "https://drks.de/search/en/trial/{id}",
}
ICTRP_PAGE = "https://trialsearch.who.int/Trial2.aspx?TrialID={id}"


def registry_name(code: str) -> str:
    """A registry's name from its code (as identifiers name their issuer): ctgov is ClinicalTrials.gov."""
    return Registry(code).label if code in Registry.values else code


@dataclass(frozen=True)
class OtherRegistration:
    """The same trial registered elsewhere: its registry and id, and the trial stored here under that id."""

    registry: str
    registry_id: str
    trial: Trial | None = None

    @property
    def registry_label(self) -> str:
        return registry_name(self.registry)

    @property
    def registry_url(self) -> str:
        """The registry's own page for the id (or WHO's, which shows every registry's), "" where none is known."""
        if self.registry in (Registry.OTHER, ""):
            return ""
        url = REGISTRY_PAGES.get(self.registry, ICTRP_PAGE).format(id=quote(self.registry_id, safe="/-"))
        return url if url.startswith(("https://", "http://")) else ""  # never javascript: or data:

    @property
    def registry_site(self) -> str:
        """Whose page registry_url is."""
        return self.registry_label if self.registry in REGISTRY_PAGES else "WHO ICTRP"
