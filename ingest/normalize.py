"""Registry wording to shared values: text decoding, dates, ages, enumerations, criteria lists."""

from __future__ import annotations

import codecs
import datetime
import html
import io
import re
import unicodedata
from typing import BinaryIO

from trials.choices import (
    Allocation,
    CriterionKind,
    InterventionModel,
    Masking,
    Phase,
    PrimaryPurpose,
    Sex,
    Status,
    StudyType,
)

from .records import CriterionRecord, ParseError, PartialDate

# --- text ------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def detect_encoding(head: bytes) -> str:
    """The encoding of a registry file from its first bytes: a BOM, UTF-16's zero bytes, else UTF-8 or GB18030."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    sample = head[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a BOM: ASCII characters leave one zero byte in every pair.
        return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason != "unexpected end of data":  # a head cut inside a character is still UTF-8
            return "gb18030"
    return "utf-8"


def decode_text(payload: bytes) -> str:
    """Decode a registry text file: UTF-8 (with or without BOM), UTF-16, or GB18030/GBK."""
    encoding = detect_encoding(payload[:65536])
    if encoding not in ("utf-8", "gb18030"):
        try:
            return _checked(payload, encoding).removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            name = encoding.removesuffix("-sig").upper()
            raise ParseError(f"not readable text: byte {error.start} is not valid {name}") from None
    try:
        return _checked(payload, "utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":
            # A file cut inside its last character; the parser will say whether the record is complete.
            return _checked(payload[: error.start], "utf-8")
        utf8_error = error.start
    try:
        return _checked(payload, "gb18030")
    except UnicodeDecodeError:
        raise ParseError(f"not readable text: byte {utf8_error} is neither UTF-8 nor GB18030/GBK") from None


def text_stream(stream: BinaryIO, *, newline: str | None = None) -> io.TextIOWrapper:
    """A binary stream read as text, a piece at a time, in the encoding its first bytes show."""
    head = stream.read(65536)
    replay = io.BufferedReader(_Replay(head, stream))
    return io.TextIOWrapper(replay, encoding=detect_encoding(head), newline=newline)


class _Replay(io.RawIOBase):
    """The bytes already read from a stream to look at them, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            # An empty slice would still hold the whole head in memory.
            self._head = self._head[count:] if count < len(self._head) else memoryview(b"")
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _checked(payload: bytes, encoding: str) -> str:
    """Decode, refusing binary data; UnicodeDecodeError propagates for the caller to try another encoding."""
    text = payload.decode(encoding)
    control = _CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise ParseError(f"not a text file: control character {control.group()!r} on line {line}")
    return text


def clean(value: str | None) -> str:
    """One line of registry text: entities decoded, whitespace collapsed."""
    if not value:
        return ""
    if "&" in value:
        value = html.unescape(value)
    return " ".join(value.split())


_BLANK_LINES = re.compile(r"\n{3,}")


def clean_block(value: str | None) -> str:
    """Multi-line registry text: entities decoded, blank runs collapsed, paragraphs kept."""
    if not value:
        return ""
    # A parse cleans some hundred texts per study, most without entities, carriage returns or even a newline:
    # each step runs only where it has something to do.
    text = html.unescape(value) if "&" in value else value
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" not in text:
        return " ".join(text.split())
    text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def clean_wrapped(value: str | None) -> str:
    """Text hard-wrapped at a fixed width (CT.gov XML textblocks): lines joined, paragraphs and list items kept."""
    paragraphs = []
    for paragraph in clean_block(value).split("\n\n"):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if lines and not _BULLET.match(line):
                lines[-1] = f"{lines[-1]} {line}"
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


# Only the tags registries put in their text; anything else with "<" (e.g. "age <18") is left alone.
_BREAK_TAG = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?tr)\b[^<>]*>", re.I)
_BREAK_BEFORE_TAG = re.compile(rf"(?:\r\n|\r|\n)(?=[ \t]*{_BREAK_TAG.pattern})", re.I)
_INLINE_TAG = re.compile(r"<\s*/?\s*(?:b|i|u|em|strong|span|font|sup|sub|a|ul|ol|table|tbody|td|th)\b[^<>]*>", re.I)


def html_text(value: str | None) -> str:
    """Registry text that carries HTML (``<br>``, ``&lt;br&gt;``, ``<p>``, entities) as plain multi-line text."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return clean_block(value)
    # Entities first: some registries escape their markup once more than the export needs ("&lt;br&gt;").
    text = html.unescape(value) if "&" in value else value
    # A line break written both ways ("\r<br>") is one break.
    text = _BREAK_TAG.sub("\n", _BREAK_BEFORE_TAG.sub("", text))
    text = _INLINE_TAG.sub("", text)
    return clean_block(text)


def html_line(value: str | None) -> str:
    """One line of registry text that may carry HTML: tags gone, breaks and whitespace collapsed."""
    if value and "<" not in value and "&" not in value:
        return " ".join(value.split())
    return " ".join(html_text(value).split())


_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~&])")


def unescape_markdown(text: str) -> str:
    """Drop the backslashes CT.gov puts before markdown characters (``\\>`` -> ``>``)."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text)


# Where East Asian wide letters are (Hangul, CJK, kana, fullwidth forms); has_cjk checks the candidates.
_WIDE_RANGES = re.compile(
    "[\u1100-\u115f\u2e80-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60\uffe0-\uffe6"
    "\U00016fe0-\U00018dff\U0001aff0-\U0001b2ff\U00020000-\U0003fffd]"
)


def has_cjk(text: str) -> bool:
    return any(
        unicodedata.east_asian_width(match.group()) == "W" and match.group().isalpha()
        for match in _WIDE_RANGES.finditer(text)
    )


# --- numbers, dates, ages --------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?![\d])")
_DMY_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_WORD_DATE = re.compile(r"(?:(\d{1,2})\s+)?([A-Za-z]{3,9})\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})")


def parse_int(text: str | int | None) -> int | None:
    if isinstance(text, int):
        return text
    match = re.search(r"\d[\d,]*", text or "")
    return int(match.group().replace(",", "")) if match else None


def parse_date(text: str | None) -> PartialDate | None:
    """Read a registry date (ISO, day/month/year, "20200217", "March 2021", "March 5, 2021") with its precision."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if match := _ISO_DATE.search(text):
            year, month, day = (int(part) if part else None for part in match.groups())
            if day is None:
                return PartialDate(datetime.date(year, month, 1), "month")
            return PartialDate(datetime.date(year, month, day))
        if match := _DMY_DATE.search(text):
            day, _, month, year = match.groups()
            return PartialDate(datetime.date(int(year), int(month), int(day)))
        if match := _COMPACT_DATE.fullmatch(text):
            return PartialDate(datetime.date(*(int(part) for part in match.groups())))
        if match := _WORD_DATE.search(text):
            day_before, month_name, day_after, year = match.groups()
            month = _MONTHS.get(month_name.lower())
            if month:
                day = day_before or day_after
                if day:
                    return PartialDate(datetime.date(int(year), month, int(day)))
                return PartialDate(datetime.date(int(year), month, 1), "month")
        if re.fullmatch(r"\d{4}", text):
            return PartialDate(datetime.date(int(text), 1, 1), "year")
    except ValueError:
        return None
    return None


def registration_timing(registered: PartialDate | None, started: PartialDate | None) -> str:
    """Prospective when the trial was registered before it started (for a start known to the month: in that month)."""
    if not registered or not started:
        return ""
    if started.precision == "month":
        return "prospective" if registered.value.replace(day=1) <= started.value else "retrospective"
    return "prospective" if registered.value <= started.value else "retrospective"


_AGE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(years?|yrs?|y|minutes?|mins?|months?|mos?|m|weeks?|wks?|w|days?|d|hours?|h|岁|月|周|天)?\b",
    re.IGNORECASE,
)
_GLUED_UNIT = re.compile(r"(?<=\d)(?=[^\W\d_])")
_UNIT_YEARS = {"y": 1, "m": 1 / 12, "w": 7 / 365.25, "d": 1 / 365.25, "h": 1 / 8766, "min": 1 / 525960, "岁": 1}
_UNIT_YEARS |= {"月": 1 / 12, "周": 7 / 365.25, "天": 1 / 365.25}


def parse_age(text: str | None) -> float | None:
    """An age limit in years ("18 Years" -> 18, "6 Months" -> 0.5, ">= 20age old" -> 20); None for "N/A"."""
    # A unit glued to its number ("18Years", "20age") is read as if spaced.
    match = _AGE.search(_GLUED_UNIT.sub(" ", text or ""))
    if not match:
        return None
    number, unit = float(match.group(1)), (match.group(2) or "y").lower()
    # A lone "m" is months; minutes (newborn trials: "1 Minute") are spelt out.
    key = "min" if unit.startswith("min") else unit[0] if unit.isascii() else unit
    years = number * _UNIT_YEARS.get(key, 1)
    return round(years, 4 if years < 1 else 2)


# --- enumerations ----------------------------------------------------------------------------


_KEY_SEPARATORS = re.compile(r"[\s_\-,./]+")


def _key(text: str) -> str:
    return _KEY_SEPARATORS.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def _lookup(table: dict[str, str], text: str | None) -> str:
    """Find a shared value for a registry word: exact words first, then any known word inside."""
    key = _key(text or "")
    if not key:
        return ""
    if key in table:
        return table[key]
    for word, value in table.items():
        if word in key:
            return value
    return ""


STATUS_WORDS = {
    _key(word): value
    for value, words in {
        Status.NOT_YET_RECRUITING: ("not yet recruiting", "尚未开始", "pending", "not recruiting yet"),
        Status.RECRUITING: ("recruiting", "正在进行", "正在招募", "open", "ongoing"),
        Status.ENROLLING_BY_INVITATION: ("enrolling by invitation",),
        Status.ACTIVE_NOT_RECRUITING: (
            "active not recruiting",
            "active, not recruiting",
            "recruitment completed",
            "closed to recruitment",
            "no longer recruiting",
            "not recruiting",
        ),
        Status.SUSPENDED: ("suspended", "suspending", "暂停", "temporarily halted", "temporary halt"),
        Status.TERMINATED: ("terminated", "终止", "stopped", "prematurely ended"),
        Status.COMPLETED: ("completed", "结束", "已完成", "complete"),
        Status.WITHDRAWN: ("withdrawn", "撤销", "cancelled"),
        Status.AVAILABLE: ("available",),
        Status.NO_LONGER_AVAILABLE: ("no longer available",),
        Status.TEMPORARILY_NOT_AVAILABLE: ("temporarily not available",),
        Status.APPROVED_FOR_MARKETING: ("approved for marketing",),
        Status.WITHHELD: ("withheld",),
        # EU CTR's "Authorised-recruitment may be ongoing or finished" says nothing about recruitment.
        Status.UNKNOWN: ("unknown", "unknown status", "not applicable", "authorised", "authorized"),
    }.items()
    for word in words
}
# Longer phrases must be tried first so "not yet recruiting" does not read as "recruiting".
STATUS_WORDS = dict(sorted(STATUS_WORDS.items(), key=lambda item: -len(item[0])))

STUDY_TYPE_WORDS = {
    _key(word): value
    for value, words in {
        StudyType.INTERVENTIONAL: ("interventional", "干预性研究", "treatment study", "治疗性研究"),
        StudyType.OBSERVATIONAL: (
            "observational",
            "观察性研究",
            "cohort",
            "case control",
            "epidemiological",
            "epidemilogical",
            "流行病学研究",
            "cause relative factors",
            "病因学研究",
            "prognosis",
            "预后研究",
            "diagnostic test",
            "诊断试验",
            "patient registry",
        ),
        StudyType.EXPANDED_ACCESS: ("expanded access",),
    }.items()
    for word in words
}

SEX_WORDS = {
    _key(word): value
    for value, words in {
        Sex.ALL: ("all", "both", "男女均可", "both male and female", "male and female", "female and male"),
        Sex.FEMALE: ("female", "女性", "女"),
        Sex.MALE: ("male", "男性", "男"),
    }.items()
    for word in words
}

ALLOCATION_WORDS = {
    _key(word): value
    for value, words in {
        Allocation.NON_RANDOMIZED: (
            "non randomized",
            "nonrandomized",
            "non randomised",
            "quasi randomized",
            "quasi randomised",
            "非随机",
        ),
        Allocation.RANDOMIZED: ("randomized", "randomised", "随机"),
        Allocation.NA: ("na", "n a"),
    }.items()
    for word in words
}

MODEL_WORDS = {
    _key(word): value
    for value, words in {
        InterventionModel.SINGLE_GROUP: ("single group", "single arm", "single assignment", "单臂"),
        InterventionModel.PARALLEL: ("parallel", "平行"),
        InterventionModel.CROSSOVER: ("crossover", "cross over", "交叉"),
        InterventionModel.FACTORIAL: ("factorial", "析因"),
        InterventionModel.SEQUENTIAL: ("sequential", "序贯"),
    }.items()
    for word in words
}

MASKING_WORDS = {
    _key(word): value
    for value, words in {
        Masking.QUADRUPLE: ("quadruple",),
        Masking.TRIPLE: ("triple", "三盲"),
        Masking.DOUBLE: ("double", "双盲"),
        Masking.SINGLE: ("single", "单盲"),
        Masking.NONE: ("none", "open", "open label", "no masking", "不设盲", "无", "no"),
    }.items()
    for word in words
}


PURPOSE_WORDS = {
    _key(word): value
    for value, words in {
        PrimaryPurpose.SUPPORTIVE_CARE: ("supportive care", "supportive"),
        PrimaryPurpose.HEALTH_SERVICES_RESEARCH: ("health services research", "health services reaserch"),
        PrimaryPurpose.BASIC_SCIENCE: ("basic science",),
        PrimaryPurpose.DEVICE_FEASIBILITY: ("device feasibility",),
        PrimaryPurpose.TREATMENT: ("treatment", "therapy", "治疗"),
        PrimaryPurpose.PREVENTION: ("prevention", "preventive", "prophylaxis", "预防"),
        PrimaryPurpose.DIAGNOSTIC: ("diagnostic", "diagnosis", "诊断"),
        PrimaryPurpose.SCREENING: ("screening", "筛查"),
        PrimaryPurpose.OTHER: ("other",),
    }.items()
    for word in words
}

_OBSERVATIONAL_MODELS = (
    ("case-control", "CASE_CONTROL"),
    ("case control", "CASE_CONTROL"),
    ("cohort", "COHORT"),
    ("cross-sectional", "CROSS_SECTIONAL"),
    ("case series", "CASE_ONLY"),
)


def status_from(text: str | None) -> str:
    return _lookup(STATUS_WORDS, text)


def study_type_from(text: str | None) -> str:
    found = _lookup(STUDY_TYPE_WORDS, text)
    return found or (StudyType.OTHER if (text or "").strip() else "")


def sex_from(text: str | None) -> str:
    return SEX_WORDS.get(_key(text or ""), "") or _lookup(SEX_WORDS, text)


def allocation_from(text: str | None) -> str:
    return _lookup(ALLOCATION_WORDS, text)


def intervention_model_from(text: str | None) -> str:
    return _lookup(MODEL_WORDS, text)


def masking_from(text: str | None) -> str:
    return MASKING_WORDS.get(_key(text or ""), "") or _lookup(MASKING_WORDS, text)


def primary_purpose_from(text: str | None) -> str:
    return _lookup(PURPOSE_WORDS, text)


def allocation_in_design(design: str | None) -> str:
    """The allocation a design text states; a single-arm design has none to state ("NA")."""
    found = allocation_from(design)
    if not found and intervention_model_from(design) == InterventionModel.SINGLE_GROUP:
        return Allocation.NA
    return found


def observational_model_from(design: str | None) -> str:
    key = (design or "").lower()
    return next((model for word, model in _OBSERVATIONAL_MODELS if word in key), "")


def yes_no(text: str | None) -> bool | None:
    """Registry yes/no values: "Yes", "是Yes", "有/Yes", "无/No", "True", "false"."""
    key = _key(text or "")
    if re.search(r"\b(yes|true)\b|^[是有]", key):
        return True
    if re.search(r"\b(no|false|none)\b|^[否无]", key):
        return False
    return None


_ROMAN = {"0": "0", "i": "1", "ii": "2", "iii": "3", "iv": "4", "1": "1", "2": "2", "3": "3", "4": "4"}
_PHASE_NUMBER = {"0": Phase.EARLY_PHASE1, "1": Phase.PHASE1, "2": Phase.PHASE2}
_PHASE_NUMBER |= {"3": Phase.PHASE3, "4": Phase.PHASE4}
_PHASE_ORDER = {phase: position for position, phase in enumerate(Phase.values)}


def phases_from(text: str | None) -> tuple[str, ...]:
    """Phases from registry wording: "PHASE2, PHASE3", "Phase 2/Phase 3", "II-III", "N/A", "其它"."""
    key = unicodedata.normalize("NFKC", text or "").lower().replace("_", " ")
    if not key.strip():
        return ()
    if "early" in key:
        return (Phase.EARLY_PHASE1,)
    found: list[str] = []
    for token in re.findall(r"\b(?:phase\s*)?(iv|iii|ii|i|[0-4])\b", key):
        phase = _PHASE_NUMBER[_ROMAN[token]]
        if phase not in found:
            found.append(phase)
    if found:
        return tuple(sorted(found, key=_PHASE_ORDER.__getitem__))
    if re.search(r"\bn\s*/?\s*a\b|not applicable|其它|其他|none", key):
        return (Phase.NA,)
    return ()


# --- eligibility criteria --------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[*•·\-–]|\d{1,2}\s*[.)、．）])\s+|^\s*[*•·]\s*")
# A line starting with a dash, not "* 1. ..." (a numbered list in a bullet); [^\S\n] keeps each test in its line.
_DASH_LINE = re.compile(r"^[^\S\n]*[*•·\-–][^\S\n]+(?![(（]?\d{1,2}[^\S\n]*[.)）])", re.M)
# A list marker ("1.", "2)", "(3)") starts the text or follows a space or punctuation mark. Bracketed and bare
# markers have a pattern each, and each tests what comes before it after its first character: a pattern that
# starts with a character class is searched for far faster than one that starts with a lookbehind.
_NOT_BEFORE_MARKER = r"[^\s;；。.:：,，]"
_BRACKETED_MARKER = re.compile(rf"[(（](?<!{_NOT_BEFORE_MARKER}.)(\d{{1,2}})\s*([.)）、．])(?!\d)")
_BARE_MARKER = re.compile(rf"(\d(?<!{_NOT_BEFORE_MARKER}\d)\d?)\s*([.)）、．])(?!\d)")
# Every marker holds a number followed by its punctuation and no digit (not "1.5"): quicker still to scan for.
_MARKER_HINT = re.compile(r"\d\s*[.)）、．](?!\d)")
_ITEM_NUMBER = re.compile(r"[(（]?\d{1,2}\s*[.)）、．]\s*")
_STYLE = {"）": ")", "．": "."}


def split_criteria(text: str | None) -> list[str]:
    """One criterion per item of a registry's list: bullets, lines, or numbers run inline."""
    return _criteria_items(clean_block(text))


def _criteria_items(text: str) -> list[str]:
    """split_criteria of a text clean_block has cleaned."""
    if not text:
        return []
    if _DASH_LINE.search(text):
        # Dashed lists (CT.gov) nest numbered sub-items, or run them inline in one dashed item: lines part the
        # items, and numbers part only the item they run in.
        items = [part for item in _line_items(text) for part in _inline_items(item)]
    else:
        chain = _numbered_chain(text)
        items = [text[start:end] for start, end in chain] if chain else _line_items(text)
    return [item for item in (_strip_item(item) for item in items) if item]


def _line_items(text: str) -> list[str]:
    """Items written one per line; where lines carry bullets, a line without one continues the item above it
    (a blank line between them ends the item: the line is a paragraph of its own)."""
    lines = text.split("\n")
    if not any(_BULLET.match(line) for line in lines):
        return [line for line in lines if line.strip()]
    items: list[str] = []
    follows_item = False
    for line in lines:
        if not line.strip():
            follows_item = False
        elif follows_item and not _BULLET.match(line):
            items[-1] = f"{items[-1]} {line}"
        else:
            items.append(line)
            follows_item = True
    return items


def _inline_items(item: str) -> list[str]:
    """An item running numbered criteria inline, split at the numbers; the words before them stay an item
    unless they only announce the list ("... as follows:")."""
    chain = _numbered_chain(item)
    if not chain:
        return [item]
    lead = item[: chain[0][0]].strip()
    return ([lead] if lead and not lead.endswith((":", "：")) else []) + [item[start:end] for start, end in chain]


def _strip_item(item: str) -> str:
    item = item.strip()
    # Both patterns only ever matched at the start (they begin with ^), so a match there is what sub() removed.
    if bullet := _BULLET.match(item):
        item = item[bullet.end() :]
    if number := _ITEM_NUMBER.match(item):
        item = item[number.end() :]
    return " ".join(item.split()).rstrip(";；,，").strip()


def _numbered_chain(text: str) -> list[tuple[int, int]]:
    """Spans of the longest run of consecutive numbers (k, k+1, ...) sharing one punctuation style."""
    # A run takes two markers, so two hints at least; most text has fewer and is looked at no further.
    first_hint = _MARKER_HINT.search(text)
    if first_hint is None or _MARKER_HINT.search(text, first_hint.end()) is None:
        return []
    found = list(_BARE_MARKER.finditer(text))
    if "(" in text or "（" in text:
        # The two kinds never overlap (a bracket's digits follow the bracket, not a space), so in order of position
        # they are the markers one pattern for both would find.
        found += _BRACKETED_MARKER.finditer(text)
        found.sort(key=re.Match.start)
    markers = [(m.start(), int(m.group(1)), _STYLE.get(m.group(2), m.group(2))) for m in found]
    best: list[int] = []
    # Of two equally long runs, the one whose style comes first in the text is kept (not whichever a set of
    # styles happened to yield first, which changed from one process to the next).
    for style in dict.fromkeys(marker[2] for marker in markers):
        styled = [marker for marker in markers if marker[2] == style]
        # The run from a marker is the marker, then the run from the first later marker numbered one more:
        # runs are counted from the last marker back, each in one step.
        following: list[int | None] = [None] * len(styled)
        lengths = [1] * len(styled)
        first_numbered: dict[int, int] = {}
        for index in range(len(styled) - 1, -1, -1):
            number = styled[index][1]
            after = first_numbered.get(number + 1)
            if after is not None:
                following[index], lengths[index] = after, lengths[after] + 1
            first_numbered[number] = index
        longest = max(lengths)
        if longest > len(best):
            best = []
            index = lengths.index(longest)
            while index is not None:
                best.append(styled[index][0])
                index = following[index]
    if len(best) < 2:
        return []
    return list(zip(best, [*best[1:], len(text)], strict=True))


def eligibility_criteria(text: str | None) -> tuple[CriterionRecord, ...]:
    """The inclusion, then the exclusion criteria of a CT.gov-style eligibility text, one per item."""
    return _criteria_of_cleaned(clean_block(text))


def eligibility_text_and_criteria(text: str | None) -> tuple[str, tuple[CriterionRecord, ...]]:
    """A CT.gov-style eligibility text as clean_block leaves it, and its criteria as eligibility_criteria reads them."""
    cleaned = clean_block(text)
    return cleaned, _criteria_of_cleaned(cleaned)


def _criteria_of_cleaned(text: str) -> tuple[CriterionRecord, ...]:
    inclusion, exclusion = _split_cleaned_eligibility(text)
    return tuple(
        CriterionRecord(kind=CriterionKind.INCLUSION, text=item) for item in _criteria_items(_reclean(inclusion))
    ) + tuple(CriterionRecord(kind=CriterionKind.EXCLUSION, text=item) for item in _criteria_items(_reclean(exclusion)))


def _reclean(part: str) -> str:
    """clean_block of a stripped piece of clean_block's output, which only an entity left in it can change."""
    # The piece has single spaces, no spaces at line ends and no runs of blank lines; "&amp;lt;" decodes twice.
    return clean_block(part) if "&" in part else part


def eligibility_text(inclusion: str, exclusion: str) -> str:
    """Inclusion and exclusion criteria as one text under their headings, as registries show them."""
    parts = []
    if inclusion.strip():
        parts.append(f"Inclusion criteria:\n{inclusion.strip()}")
    if exclusion.strip():
        parts.append(f"Exclusion criteria:\n{exclusion.strip()}")
    return "\n\n".join(parts)


_EXCLUSION_HEADING = re.compile(r"^\s*\**\s*exclusion criteria\s*\**\s*:?\s*$", re.I | re.M)
_EXCLUSION_LABEL = re.compile(r"exclusion criteria\s*:", re.I)
_INCLUSION_HEADING = re.compile(r"^\s*\**\s*inclusion criteria\s*\**\s*:?", re.I)


def split_eligibility(text: str | None) -> tuple[str, str]:
    """Split a CT.gov-style criteria text into its inclusion and exclusion parts."""
    return _split_cleaned_eligibility(clean_block(text))


def _split_cleaned_eligibility(text: str) -> tuple[str, str]:
    match = _EXCLUSION_HEADING.search(text)
    if match is None:
        match = _EXCLUSION_LABEL.search(text)
    inclusion, exclusion = (text[: match.start()], text[match.end() :]) if match else (text, "")
    inclusion = _INCLUSION_HEADING.sub("", inclusion)
    return inclusion.strip(), exclusion.strip()
