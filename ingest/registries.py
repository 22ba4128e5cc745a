"""Which registry a trial id belongs to, and the trial ids of any registry named inside a text."""

from __future__ import annotations

import re

from trials.choices import Registry

# One pattern per registry, in the spelling the registry itself uses; ICTRP exports, secondary-id lists and
# ChiCTR's "partner registry" field all write them this way.
_PATTERNS: tuple[tuple[str, str], ...] = (
    (Registry.CTGOV, r"NCT\d{8}"),
    (Registry.CHICTR, r"ChiCTR(?:-[A-Z]{2,4}-\d{8}|\d{10})"),
    (Registry.ITMCTR, r"ITMCTR\d{10,}"),
    (Registry.ISRCTN, r"ISRCTN\d{8}"),
    # EudraCT numbers are mostly written bare ("2005-004244-31", CT.gov secondary ids); EUCTR adds a country.
    (Registry.EUCTR, r"(?:EUCTR)?\d{4}-\d{6}-\d{2}(?:-[A-Z]{2,3})?"),
    (Registry.CTIS, r"\d{4}-5\d{5}-\d{2}-\d{2}"),
    (Registry.CTRI, r"CTRI/\d{4}/\d{2,3}/\d{6}"),
    (Registry.JPRN, r"JPRN-(?:UMIN|JapicCTI-|JMA-IIA|jRCT|C)[0-9A-Za-z]+"),
    (Registry.DRKS, r"DRKS\d{8}"),
    (Registry.IRCT, r"IRCT\d{6,}N\d+|IRCT\d{9,}"),
    (Registry.ANZCTR, r"ACTRN\d{14}"),
    (Registry.NTR, r"NTR\d{3,5}|NL-?OMON\d+|NL\d{4,5}"),
    (Registry.TCTR, r"TCTR\d{11}"),
    (Registry.KCT, r"KCT\d{7}"),
    (Registry.PACTR, r"PACTR\d{15}"),
    (Registry.REBEC, r"RBR-\w{6,8}"),
    (Registry.RPCEC, r"RPCEC\d{8}"),
    (Registry.SLCTR, r"SLCTR/\d{4}/\d{3}"),
    (Registry.LBCTR, r"LBCTR\d{10}"),
)
_ANY = re.compile(
    "|".join(f"(?P<{registry}>{pattern})" for registry, pattern in _PATTERNS),
    re.IGNORECASE,
)
# An id is never the start of a longer number: "NL43264.018.13" (a Dutch ethics number) holds no NTR id, and
# "2023-500123-45-00" is one CTIS id, not an EudraCT number with a tail.
_BOUNDED = re.compile(rf"(?<![\w/-])(?:{_ANY.pattern})(?![\w/]|[.-]\d)", re.IGNORECASE)
_BARE_EUDRACT = re.compile(r"\d{4}-\d{6}-\d{2}(?:-[A-Z]{2,3})?")
_PREFIX_CASE = {"nct": "NCT", "chictr": "ChiCTR", "itmctr": "ITMCTR", "isrctn": "ISRCTN", "euctr": "EUCTR"}


def canonical(trial_id: str) -> str:
    """A trial id in its registry's own spelling: ``nct01234567`` becomes ``NCT01234567``, an EudraCT number
    ``2005-004244-31`` becomes ``EUCTR2005-004244-31``."""
    if _BARE_EUDRACT.fullmatch(trial_id):
        return f"EUCTR{trial_id}"
    match = re.match(r"[A-Za-z]+", trial_id)
    if not match:
        return trial_id
    prefix = match.group()
    fixed = _PREFIX_CASE.get(prefix.casefold())
    if fixed is None:
        fixed = prefix if prefix.casefold().startswith("ch") else prefix.upper()
    return fixed + trial_id[len(prefix) :]


def registry_of(trial_id: str) -> str:
    """The registry code of a trial id (``Registry`` value), or "" when no registry spells ids this way."""
    match = _ANY.fullmatch(trial_id.strip())
    return match.lastgroup if match else ""


def trial_ids_in(text: str) -> list[tuple[str, str]]:
    """Every (registry, trial id) named in a text, in order, once each."""
    found = {}
    for match in _BOUNDED.finditer(text or ""):
        found.setdefault(canonical(match.group()), match.lastgroup)
    return [(registry, trial_id) for trial_id, registry in found.items()]


# Registries whose record page is addressed by the trial id alone.
_TRIAL_URLS = {
    Registry.CTGOV: "https://clinicaltrials.gov/study/{id}",
    Registry.CHICTR: "https://www.chictr.org.cn/searchprojEN.html?regno={id}",
    Registry.ISRCTN: "https://www.isrctn.com/{id}",
    Registry.DRKS: "https://drks.de/search/en/trial/{id}",
    Registry.ANZCTR: "https://www.anzctr.org.au/{id}.aspx",
    Registry.TCTR: "https://www.thaiclinicaltrials.org/show/{id}",
}


def trial_url(trial_id: str) -> str:
    """The registry's web page for a trial id, where the id alone addresses it; else ""."""
    registry = registry_of(trial_id)
    if registry == Registry.EUCTR:
        eudract = re.search(r"\d{4}-\d{6}-\d{2}", trial_id).group()
        return f"https://www.clinicaltrialsregister.eu/ctr-search/search?query=eudract_number:{eudract}"
    template = _TRIAL_URLS.get(registry)
    return template.format(id=canonical(trial_id)) if template else ""
