"""De-identification of interview transcripts: detect direct identifiers, review, replace.

Plain Python, no Django, no model downloads: rules, check digits and gazetteers written here.

* ``detect(text, known_people=..., gazetteers=...)`` suggests ``Span``s of the kinds in
  ``KINDS``: people (the participant's own list of people mentioned, with their role labels,
  plus first names, titles and cue words such as "my mum" or "called"), places (a UK town,
  city and neighbourhood gazetteer, "the X estate", "moved to X"), institutions ("... Hospital",
  "... Medical Practice", "... Primary School", "... Children's Services", "HMP ..."), dates of
  birth (a date in a birth context) and other dates with a day and month, phone numbers (UK
  mobile and landline formats, +44), emails, postcodes (UK formats), NHS numbers (10 digits with
  the Modulus 11 check), CHI numbers (DDMMYY + 4 with the same check) and street addresses.
  Spans do not overlap: a longer span wins ("Leeds General Infirmary" over "Leeds").
* A reviewer accepts, rejects or adds each (``Decision``); spans left without a decision are
  accepted (the safe default).
* ``apply(text, spans, decisions, mapping=...)`` returns the de-identified text and the
  ``LabelMap``: the same original within a document set gets the same label, known people get
  their role (``[baby's name]``, ``[partner]``), two different towns are ``[town 1]`` and
  ``[town 2]``. ``apply_set`` does a whole set at once. ``Replacement`` records (offsets,
  kind, label; never the raw text) are kept in the map, separate from the output text. The map
  itself holds the originals and is as identifying as the transcript: store it like the
  identity store.
* ``load_corpus()`` and ``evaluate()``: the shipped synthetic labelled corpus and
  precision/recall per kind (see ``docs/deidentification.md``).
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from typing import Any, Literal

PERSON = "person"
PLACE = "place"
INSTITUTION = "institution"
DATE_OF_BIRTH = "date-of-birth"
DATE = "date"
PHONE = "phone"
EMAIL = "email"
POSTCODE = "postcode"
NHS_NUMBER = "nhs-number"
CHI_NUMBER = "chi-number"
ADDRESS = "address"

KINDS: tuple[str, ...] = (
    PERSON,
    PLACE,
    INSTITUTION,
    DATE_OF_BIRTH,
    DATE,
    PHONE,
    EMAIL,
    POSTCODE,
    NHS_NUMBER,
    CHI_NUMBER,
    ADDRESS,
)

DEFAULT_LABELS: dict[str, str] = {
    PERSON: "name",
    PLACE: "town",
    INSTITUTION: "institution",
    DATE_OF_BIRTH: "date of birth",
    DATE: "date",
    PHONE: "phone number",
    EMAIL: "email address",
    POSTCODE: "postcode",
    NHS_NUMBER: "NHS number",
    CHI_NUMBER: "CHI number",
    ADDRESS: "address",
}

# Which source wins when two suggestions of equal length overlap (lower wins).
_SOURCE_RANK = {
    "review": 0,
    "known-people": 1,
    "pattern": 2,
    "speaker-label": 2,
    "gazetteer": 3,
    "cue": 4,
    "first-names": 5,
}


class DeidentifyError(ValueError):
    """A span or decision that does not fit the text it is applied to."""


@dataclass(frozen=True)
class Span:
    """A suggested (or added) identifier: ``text[start:end]``."""

    start: int
    end: int
    kind: str
    text: str
    label: str
    source: str = "pattern"
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DeidentifyError(f"unknown kind {self.kind!r}; one of {', '.join(KINDS)}")
        if not 0 <= self.start < self.end:
            raise DeidentifyError(f"span {self.start}..{self.end} is empty or negative")


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on a span.

    ``accept`` and ``reject`` name a suggested span by its offsets; ``accept`` may change its
    ``label`` or ``kind``. ``add`` marks ``text[start:end]`` as an identifier of ``kind``.
    With ``everywhere``, a rejection applies to every suggestion of the same string and kind,
    and an addition to every whole-word occurrence of the string in the text.
    """

    action: Literal["accept", "reject", "add"]
    start: int
    end: int
    kind: str | None = None
    label: str | None = None
    everywhere: bool = False
    reviewer: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.action not in ("accept", "reject", "add"):
            raise DeidentifyError(f"unknown action {self.action!r}")
        if self.action == "add" and self.kind is None:
            raise DeidentifyError("an added span needs a kind")
        if self.kind is not None and self.kind not in KINDS:
            raise DeidentifyError(f"unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Replacement:
    """Where one identifier was replaced; holds no raw text."""

    document_id: str
    start: int
    end: int
    output_start: int
    output_end: int
    kind: str
    label: str
    source: str


@dataclass
class LabelMap:
    """Original → label for a document set, plus the replacements made.

    Keys are ``(base label, normalised original)``. A base label with one original renders
    as ``[town]``; with several, ``[town 1]``, ``[town 2]`` in order of first sight. Labels
    already handed out never change, so an incremental set stays consistent: a second town
    met after ``[town]`` was used becomes ``[town 2]``. Known people (one role, one person)
    render as ``[role]`` however many spellings they have.
    """

    labels: dict[tuple[str, str], str] = field(default_factory=dict)
    pending: dict[str, list[str]] = field(default_factory=dict)
    replacements: list[Replacement] = field(default_factory=list)

    def register(self, base: str, key: str) -> None:
        keys = self.pending.setdefault(base, [])
        if key not in keys and (base, key) not in self.labels:
            keys.append(key)

    def render(self, base: str, key: str) -> str:
        found = self.labels.get((base, key))
        if found is not None:
            return found
        used = [k for (b, k) in self.labels if b == base]
        waiting = [k for k in self.pending.get(base, []) if (base, k) not in self.labels]
        if key not in waiting:
            waiting.append(key)
        alone = not used and len(waiting) == 1
        label = f"[{base}]" if alone else f"[{base} {len(used) + 1}]"
        self.labels[(base, key)] = label
        if key in self.pending.get(base, []):
            self.pending[base].remove(key)
        return label

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form. It holds the originals: keep it as safe as the identity store."""
        return {
            "labels": [[b, k, v] for (b, k), v in self.labels.items()],
            "replacements": [r.__dict__ for r in self.replacements],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelMap:
        out = cls()
        for b, k, v in data.get("labels", []):
            out.labels[(b, k)] = v
        out.replacements = [Replacement(**r) for r in data.get("replacements", [])]
        return out


# --------------------------------------------------------------------------- check digits


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _mod11(digits: str) -> bool:
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def is_valid_nhs_number(value: str) -> bool:
    """10 digits (spaces or hyphens allowed) whose last digit is the Modulus 11 check."""
    digits = _digits(value)
    if len(digits) != 10 or re.sub(r"[\s-]", "", value) != digits:
        return False
    if len(set(digits)) == 1:  # 0000000000 passes the check but is never issued
        return False
    return _mod11(digits)


def _chi_date(digits: str) -> date | None:
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    for century in (2000, 1900):
        try:
            return date(century + yy, month, day)
        except ValueError:
            continue
    return None


def is_valid_chi_number(value: str) -> bool:
    """10 digits: a real date DDMMYY, two digits, a sex digit, and the Modulus 11 check."""
    digits = _digits(value)
    if len(digits) != 10 or re.sub(r"[\s-]", "", value) != digits:
        return False
    return _chi_date(digits) is not None and _mod11(digits)


# --------------------------------------------------------------------------- gazetteers

_TOWNS = """
Aberdeen, Aberystwyth, Accrington, Airdrie, Aldershot, Alloa, Alnwick, Alton, Altrincham,
Andover, Arbroath, Arnold, Ashford, Ashington, Ashton-under-Lyne, Aylesbury, Ayr, Banbury,
Bangor, Barking, Barnsley, Barnstaple, Barrow-in-Furness, Barry, Basildon, Basingstoke, Bath,
Batley, Bedford, Belfast, Berwick-upon-Tweed, Beverley, Bexhill, Bicester, Birkenhead,
Birmingham, Bishop Auckland, Blackburn, Blackpool, Blyth, Bognor Regis, Bolton, Bootle,
Boston, Bournemouth, Bracknell, Bradford, Braintree, Brentwood, Bridgend, Bridgwater,
Bridlington, Brighton, Bristol, Bromsgrove, Burnley, Burton upon Trent, Bury, Bury St Edmunds,
Buxton, Caerphilly, Camberley, Cambridge, Cannock, Canterbury, Cardiff, Carlisle, Carmarthen,
Castleford, Chatham, Chelmsford, Cheltenham, Chester, Chesterfield, Chester-le-Street,
Chichester, Chippenham, Chorley, Clacton-on-Sea, Clydebank, Coalville, Colchester, Consett,
Corby, Coventry, Cramlington, Crawley, Crewe, Crosby, Cumbernauld, Cwmbran, Darlington,
Dartford, Derby, Dewsbury, Doncaster, Dorchester, Dover, Dudley, Dumfries, Dundee, Dunfermline,
Durham, Eastbourne, East Kilbride, Edinburgh, Ellesmere Port, Ely, Epsom, Exeter, Falkirk,
Fareham, Farnborough, Felixstowe, Fleetwood, Folkestone, Gateshead, Gillingham, Glasgow,
Glenrothes, Gloucester, Goole, Gosport, Grantham, Gravesend, Grays, Great Yarmouth, Greenock,
Grimsby, Guildford, Halesowen, Halifax, Hamilton, Harlow, Harrogate, Hartlepool, Harwich,
Hastings, Hatfield, Havant, Haverhill, Hemel Hempstead, Hereford, Hexham, High Wycombe,
Hinckley, Hitchin, Hove, Huddersfield, Hull, Huntingdon, Ilkeston, Inverness, Ipswich, Irvine,
Keighley, Kendal, Kettering, Kidderminster, Kilmarnock, King's Lynn, Kingston upon Hull,
Kirkcaldy, Kirkby, Lancaster, Leamington Spa, Leeds, Leicester, Leigh, Lerwick, Lewes,
Lichfield, Lincoln, Liverpool, Livingston, Llandudno, Llanelli, London, Loughborough, Lowestoft,
Luton, Macclesfield, Maidenhead, Maidstone, Manchester, Mansfield, Margate, Merthyr Tydfil,
Middlesbrough, Milton Keynes, Morecambe, Morley, Motherwell, Neath, Nelson, Newark,
Newcastle, Newcastle upon Tyne, Newcastle-under-Lyme, Newport, Newquay, Newry, Northampton,
Northallerton, Norwich, Nottingham, Nuneaton, Oldham, Omagh, Ormskirk, Oxford, Paignton,
Paisley, Penrith, Penzance, Perth, Peterborough, Peterhead, Plymouth, Pontefract, Pontypridd,
Poole, Port Talbot, Portsmouth, Preston, Prestwich, Ramsgate, Rawtenstall, Reading, Redcar,
Redditch, Redruth, Reigate, Rhyl, Richmond, Ripon, Rochdale, Rochester, Rotherham, Rugby,
Runcorn, Rushden, St Albans, St Andrews, St Austell, St Helens, Salford, Salisbury,
Scarborough, Scunthorpe, Seaham, Selby, Sheffield, Shrewsbury, Skegness, Skelmersdale,
Skipton, Slough, Solihull, Southampton, Southend, Southend-on-Sea, Southport, South Shields,
Spalding, Stafford, Staines, Stalybridge, Stevenage, Stirling, Stockport, Stockton,
Stockton-on-Tees, Stoke, Stoke-on-Trent, Stourbridge, Stranraer, Stratford-upon-Avon,
Stroud, Sunderland, Sutton Coldfield, Swansea, Swindon, Tamworth, Taunton, Telford, Tewkesbury,
Thetford, Thurrock, Tipton, Tiverton, Torquay, Truro, Tunbridge Wells, Wakefield, Walsall,
Warrington, Warwick, Washington, Watford, Wellingborough, Welwyn Garden City, West Bromwich,
Westminster, Weston-super-Mare, Weymouth, Whitby, Whitehaven, Widnes, Wigan, Winchester,
Windsor, Wirral, Wishaw, Woking, Wolverhampton, Worcester, Workington, Worksop, Worthing,
Wrexham, Yeovil, York
"""

# Neighbourhoods and estates of cities: often more identifying than the city.
_AREAS = """
Anfield, Armley, Beeston, Bramley, Brixton, Bulwell, Byker, Chapeltown, Cheetham Hill,
Clifton, Denton, Drumchapel, Easterhouse, Everton, Gipton, Gorbals, Govan, Hackney, Harehills,
Headingley, Holbeck, Hulme, Kirkstall, Lewisham, Longsight, Meadowell, Middleton, Moss Side,
Niddrie, Old Swan, Peckham, Pilton, Possilpark, Rusholme, Seacroft, Sighthill, Sparkbrook,
Speke, Stockbridge, Toxteth, Walker, Walkden, Wester Hailes, Whitechapel, Woodhouse, Wythenshawe
"""

# Gazetteer names that are also ordinary words or first names: matched only with a place cue.
_AMBIGUOUS_TEXT = """
Bath Boston Bury Chester Clifton Denton Ely Grays Hamilton Leigh Lincoln Middleton Nelson
Reading Richmond Rugby Walker Washington Windsor Woodhouse Beeston Bramley Stockbridge
"""
AMBIGUOUS_PLACES = frozenset(_AMBIGUOUS_TEXT.split())


def _name_list(block: str) -> list[str]:
    return [n.strip() for n in block.replace("\n", " ").split(",") if n.strip()]


_FIRST_NAMES = """
Aaliyah Abbie Abdul Abigail Adam Adrian Ahmed Aidan Aisha Alan Albie Alex Alexander Alfie Ali
Alice Alicia Alisha Alison Amanda Amelia Amir Amy Andrea Andrew Angela Angie Ann Anna Anne
Annie Anthony Archie Arthur Ashley Ava Barbara Barry Becky Ben Benjamin Beth Bethany Billie
Billy Bobby Brandon Brenda Brian Brooke Caitlin Callum Cameron Carl Carly Carol Caroline
Casey Catherine Charlie Charlotte Chantelle Chelsea Chloe Chris Christine Claire Colin Connor
Courtney Craig Daisy Dale Damian Danielle Danny Darren Dave David Dawn Dean Debbie Declan
Demi Denise Dennis Diane Dylan Eddie Elaine Eleanor Elijah Ella Ellie Elliot Emily Emma Erin
Ethan Eve Evie Frankie Freddie Gail Gary Gemma George Georgia Gerry Gillian Gordon Graham
Hannah Harley Harper Harry Harvey Hayley Heather Helen Henry Holly Hollie Ian Isaac Isabella
Isla Isobel Jack Jackie Jacob Jade Jake James Jamie Jan Janet Jason Jasmine Jayden Jean
Jenna Jennifer Jenny Jess Jessica Jill Joanne Jodie Joe Joel John Jordan Joseph Josh Joshua
Julie Justin Kai Karen Kate Katie Kayden Kayleigh Keeley Keith Kelly Kerry Kevin Kieran Kim
Kirsty Kyle Lacey Laura Lauren Layla Leah Lee Leo Leon Lewis Liam Lily Lindsay Lisa Liz Logan
Lola Louie Louis Louise Lucas Lucy Luke Lynn Lynsey Maddison Maisie Mandy Margaret Maria
Marie Martin Mason Matthew Megan Melissa Mia Michael Michelle Mike Millie Mohammed Molly
Nadia Natalie Nathan Neil Nicola Nicole Niamh Noah Oliver Olivia Oscar Owen Paige Paul Paula
Peter Phoebe Rachel Rebecca Reece Rhys Riley Robert Robbie Ronnie Rosie Ruby Ryan Sadie
Sam Samantha Sandra Sarah Scarlett Scott Sean Shane Shannon Sharon Shaun Siobhan Sophie
Stacey Stephanie Steve Steven Stuart Susan Tanya Taylor Teresa Theo Thomas Tina Toby Tom
Tommy Tony Tracey Tyler Vicky Wayne Wendy William Zac Zara Zoe
"""

# First names that are also ordinary words: need a cue, a known-people entry or to stand
# mid-sentence with a capital.
_WORD_NAMES_TEXT = """
Amber April Autumn Bill Brook Chase Crystal Daisy Dawn Destiny Faith Frank Grace Heaven Holly
Honey Hope Hunter Iris Ivy Jack Jade Joy June Lily Mark May Pat Poppy Precious River Rob Robin
Rose Ruby Sky Skye Star Storm Summer Sunny Will Violet
"""
WORD_NAMES = frozenset(_WORD_NAMES_TEXT.split())

# Capitalised words that are never names or places here.
_STOP_CAPS_TEXT = """
    A About After Again All Also Although Am An And Any Anyway Are As At Aye Be Because Been
    Before Being Both But By Can Cannot Could Did Do Does Doing Done Don't During Each Either
    Even Ever Every Everyone Everything For From Had Has Have Having He He'd He's Her Here
    Hers Him His How I I'd I'll I'm I've If In Into Is It It's Its Just Last Let Like Maybe Me
    Mine More Most Mum Mummy Dad Daddy Nan Nana Gran Grandma Grandad My Never Next No Nobody
    None Nor Not Nothing Now Of Off Oh Ok Okay On Once One Only Or Other Our Out Over Please
    Really Right She She'd She's Should Since So Some Someone Something Sometimes Still Such
    Than Thank Thanks That That's The Their Them Then There There's These They They're This
    Those Though Through To Today Tomorrow Too Under Until Up Us Very Was We We're Well Were
    What When Where Whether Which While Who Whoever Why With Without Would Yeah Yes Yesterday
    Yet You You're Your Sorry Sure Alright God Jesus Christmas Easter English British Scottish
    Welsh Irish NHS GP A&E Monday Tuesday Wednesday Thursday Friday Saturday Sunday January
    February March April May June July August September October November December Facebook
    Interviewer Participant Facilitator Moderator Midwife Nurse Doctor Social Services Council
    Hospital School Police Court Methadone Subutex Buprenorphine Heroin Crack Spice Valium
    Christian Muslim Catholic Family Baby Partner Health Visitor Worker Team Unit Ward Centre
    """
_STOP_CAPS = frozenset(_STOP_CAPS_TEXT.split())

_INSTITUTION_SUFFIXES: tuple[tuple[str, str], ...] = (
    (
        r"(?:General\s+)?Hospital|Infirmary|Maternity\s+Unit|Birth\s+Centre|Mother\s+and\s+Baby\s+Unit"
        r"|Neonatal\s+Unit|Special\s+Care\s+Baby\s+Unit|Ward",
        "hospital",
    ),
    (
        r"Medical\s+Practice|Medical\s+Centre|Health\s+Centre|Surgery|Family\s+Practice",
        "GP practice",
    ),
    (
        r"Primary\s+School|Infant\s+School|Junior\s+School|High\s+School|Secondary\s+School"
        r"|Academy|College|Nursery|School",
        "school",
    ),
    (
        r"Children'?s\s+Centre|Children’s\s+Centre|Family\s+Centre|Sure\s+Start(?:\s+Centre)?",
        "children's centre",
    ),
    (
        r"Children'?s\s+Services|Children’s\s+Services|Social\s+Services|Social\s+Care"
        r"|City\s+Council|Borough\s+Council|County\s+Council|District\s+Council|Council",
        "local authority",
    ),
    (
        r"Recovery\s+(?:Service|Centre|Hub|Team)|Drug\s+(?:and\s+Alcohol\s+)?(?:Service|Team)"
        r"|Substance\s+Misuse\s+(?:Service|Team)|Addiction\s+(?:Service|Team)",
        "drug service",
    ),
    (r"Pharmacy|Chemist'?s?", "pharmacy"),
    (r"Hostel|Refuge|Housing\s+Association|Foyer", "housing"),
    (r"University", "university"),
    (r"Prison|Police\s+Station|Magistrates'?\s+Court|Family\s+Court|Crown\s+Court", "justice"),
    (r"Church|Mosque", "faith group"),
)

_STREET_SUFFIXES = (
    "Road|Street|Avenue|Lane|Close|Drive|Grove|Way|Crescent|Terrace|Place|Court|Gardens|Walk|Row"
    "|Rise|Mews|Square|Parade|Vale|View|Green|Hill|Park|Fold|Mount|Croft|Wynd|Brae|Gate"
)


@dataclass(frozen=True)
class Gazetteers:
    """Names the detector looks up. Extend with a site's own villages, wards and services."""

    places: Mapping[str, str]
    first_names: frozenset[str]
    institutions: Mapping[str, str] = field(default_factory=dict)
    ambiguous_places: frozenset[str] = AMBIGUOUS_PLACES
    word_names: frozenset[str] = WORD_NAMES

    def extended(
        self,
        *,
        places: Mapping[str, str] | None = None,
        first_names: Iterable[str] = (),
        institutions: Mapping[str, str] | None = None,
    ) -> Gazetteers:
        return replace(
            self,
            places={**self.places, **(places or {})},
            first_names=self.first_names | frozenset(first_names),
            institutions={**self.institutions, **(institutions or {})},
        )


def default_gazetteers() -> Gazetteers:
    places = dict.fromkeys(_name_list(_TOWNS), "town")
    places.update(dict.fromkeys(_name_list(_AREAS), "area"))
    names = frozenset(_FIRST_NAMES.split()) | WORD_NAMES
    return Gazetteers(places=places, first_names=names)


DEFAULT_GAZETTEERS = default_gazetteers()


# --------------------------------------------------------------------------- helpers

_APOS = "'’"
_WORD = r"[A-Z][a-zA-Z'’\-]*[a-zA-Z]|[A-Z]"
_CAP_TOKEN = re.compile(r"[A-Z][a-zA-Z'’\-]*")


def _strip_possessive(s: str) -> str:
    for suffix in ("'s", "’s"):
        if s.endswith(suffix):
            return s[: -len(suffix)]
    return s


def normalise_original(kind: str, text: str) -> str:
    """The key under which an original is remembered: same person or place, same key."""
    if kind == PHONE:
        digits = _digits(text.replace("(0)", ""))
        if digits.startswith("44"):
            digits = "0" + digits[2:]
        return digits
    if kind in (NHS_NUMBER, CHI_NUMBER):
        return _digits(text)
    if kind == POSTCODE:
        return re.sub(r"\s+", "", text).upper()
    if kind == EMAIL:
        return text.strip().lower()
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return " ".join(_strip_possessive(folded).split())


_LABEL_LINE = re.compile(r"^[ \t]*(?:\[[\d:.]+\][ \t]*)?[\w][\w .'’-]{0,30}:[ \t]*$")


def _is_sentence_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t\"'“‘(":
        j -= 1
    if j < 0 or text[j] in ".!?\n…":
        return True
    if text[j] == ":":
        line_start = text.rfind("\n", 0, j) + 1
        return bool(_LABEL_LINE.match(text[line_start : j + 1]))
    return False


def _next_word(text: str, end: int) -> str:
    m = re.match(r"[\s,]*([A-Za-z'’]+)", text[end:])
    return m.group(1) if m else ""


def _prev_words(text: str, start: int, n: int = 3) -> list[str]:
    before = text[max(0, start - 60) : start]
    return [w.lower() for w in re.findall(r"[A-Za-z'’]+", before)[-n:]]


def _make(
    text: str, start: int, end: int, kind: str, label: str, source: str, note: str = ""
) -> Span:
    return Span(start, end, kind, text[start:end], label, source, note)


# --------------------------------------------------------------------------- detectors

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![\w-])"
)


def _detect_emails(text: str) -> list[Span]:
    return [
        _make(text, m.start(), m.end(), EMAIL, DEFAULT_LABELS[EMAIL], "pattern")
        for m in _EMAIL.finditer(text)
    ]


# Outward code: A9, A9A, A99, AA9, AA9A, AA99; inward: 9AA (letters without C I K M O V).
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR ?0AA|"
    r"(?:[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?))"
    r"[ \t]?[0-9][ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])"
)


def is_uk_postcode(value: str) -> bool:
    m = _POSTCODE.fullmatch(value.strip().upper())
    return m is not None


def _detect_postcodes(text: str) -> list[Span]:
    return [
        _make(text, m.start(), m.end(), POSTCODE, DEFAULT_LABELS[POSTCODE], "pattern")
        for m in _POSTCODE.finditer(text)
    ]


_PHONE = re.compile(r"(?<![\w+])(?:\+44[ \t-]?(?:\(0\)[ \t-]?)?|\(?0)\d[\d \t\-()]{7,14}\d(?![\w])")
_PHONE_PREFIXES = ("01", "02", "03", "05", "07", "08")


def is_uk_phone(value: str) -> bool:
    """A UK number in a usual written format: 07700 900123, (0113) 496 0123, +44 7700 900123."""
    m = _PHONE.fullmatch(value.strip())
    if not m:
        return False
    return _phone_digits_ok(value)


def _phone_digits_ok(raw: str) -> bool:
    digits = _digits(raw.replace("(0)", ""))
    if raw.lstrip().startswith("+44"):
        digits = "0" + digits[2:]
    if not digits.startswith(_PHONE_PREFIXES):
        return False
    if len(digits) == 11:
        return True
    # Ten-digit numbers exist (some 01 areas, 0800): accept them only when written in groups.
    return len(digits) == 10 and digits.startswith(("01", "08")) and bool(re.search(r"\D", raw))


def _detect_phones(text: str) -> list[Span]:
    spans = []
    for m in _PHONE.finditer(text):
        raw = m.group(0).rstrip(" -\t")
        # Drop trailing groups that made it too long ("07700 900123 2019 was ...").
        while not _phone_digits_ok(raw):
            cut = re.match(r"(.*\d)[ \t-]+[\d()]+$", raw)
            if cut is None:
                break
            raw = cut.group(1)
        if not _phone_digits_ok(raw):
            continue
        if raw.startswith("(") and raw.count("(") > raw.count(")"):
            continue
        spans.append(
            _make(text, m.start(), m.start() + len(raw), PHONE, DEFAULT_LABELS[PHONE], "pattern")
        )
    return spans


_TEN_DIGITS = re.compile(r"(?<![\w+])(\d{3}[ -]?\d{3}[ -]?\d{4}|\d{6}[ -]?\d{4}|\d{10})(?![\w])")
_NHS_CUE = re.compile(r"\bNHS\s*(?:no\.?|number|num|#)?\s*(?:is|was|:)?\s*$", re.IGNORECASE)
_CHI_CUE = re.compile(r"\bCHI\s*(?:no\.?|number|num|#)?\s*(?:is|was|:)?\s*$", re.IGNORECASE)


def _detect_health_numbers(text: str) -> list[Span]:
    spans = []
    for m in _TEN_DIGITS.finditer(text):
        raw = m.group(1)
        digits = _digits(raw)
        before = text[max(0, m.start() - 30) : m.start()]
        nhs_cue = bool(_NHS_CUE.search(before))
        chi_cue = bool(_CHI_CUE.search(before))
        sentence = re.split(r"[.!?\n]\s", text[max(0, m.start() - 120) : m.start()])[-1]
        nhs_sentence = bool(re.search(r"\bNHS\b", sentence))
        chi_sentence = bool(re.search(r"\bCHI\b", sentence))
        chi_ok = is_valid_chi_number(raw)
        nhs_ok = is_valid_nhs_number(raw)
        if chi_cue and (chi_ok or not nhs_ok):
            note = "" if chi_ok else "check digit or date fails: a mistyped CHI number?"
            spans.append(
                _make(text, m.start(1), m.end(1), CHI_NUMBER, "CHI number", "pattern", note)
            )
        elif nhs_cue:
            note = "" if nhs_ok else "check digit fails: a mistyped NHS number?"
            spans.append(
                _make(text, m.start(1), m.end(1), NHS_NUMBER, "NHS number", "pattern", note)
            )
        elif chi_ok and digits[0] in "0123" and (chi_sentence or not nhs_sentence):
            # England's NHS numbers start 4, 6, 7 (and 9 for test numbers); a Scottish CHI
            # number starts with the day of birth.
            spans.append(_make(text, m.start(1), m.end(1), CHI_NUMBER, "CHI number", "pattern"))
        elif nhs_ok and digits[0] not in "0":
            spans.append(_make(text, m.start(1), m.end(1), NHS_NUMBER, "NHS number", "pattern"))
        elif nhs_sentence or chi_sentence:
            # Fails the check, but the sentence is about NHS or CHI numbers: a mistyped one
            # is still an identifier.
            kind = NHS_NUMBER if nhs_sentence and not chi_sentence else CHI_NUMBER
            label = DEFAULT_LABELS[kind]
            spans.append(
                _make(text, m.start(1), m.end(1), kind, label, "pattern", "check digit fails")
            )
    return spans


_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_ORD = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_DATE_PATTERNS = (
    # 03/04/2019, 3-4-19, 03.04.2019
    re.compile(
        r"(?<![\w/.-])(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|1[0-2])\1(?:\d{4}|\d{2})(?![\w/-])"
    ),
    # 3 March 2019, 3rd of March, the 3rd of March 2019
    re.compile(rf"(?<![\w])(?:the\s+)?{_ORD}\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+{_YEAR})?(?![\w])"),
    # March 3rd, 2019 / March 3
    re.compile(rf"(?<![\w])(?:{_MONTHS})\s+{_ORD}(?:,?\s+{_YEAR})?(?![\w])"),
)
_BIRTH_CUE = re.compile(
    r"\b(?:born|birthday|birth\s*date|date\s+of\s+birth|d\.?\s?o\.?\s?b\.?|dob)\b[^.!?\n]{0,40}$",
    re.IGNORECASE,
)
_BIRTH_AFTER = re.compile(
    r"^[\s,)(]{0,3}(?:\(?\s*(?:date\s+of\s+birth|dob|d\.o\.b\.?)\b)", re.IGNORECASE
)
# "Date of birth? 30.11.1993", "DOB: 3/4/96": the cue right before, across the punctuation.
_BIRTH_JUST_BEFORE = re.compile(
    r"\b(?:date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|born)\s*[?:.\-–]?\s*$", re.IGNORECASE
)
_NOT_BIRTH = re.compile(
    r"\b(?:due|induced|induction|booked|appointment|scan)\b[^.!?\n]{0,25}$", re.IGNORECASE
)


def _detect_dates(text: str) -> list[Span]:
    found: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if text[start:end].lower().startswith("the "):
                start += 4
            found.append((start, end))
    spans = []
    for start, end in found:
        before = text[max(0, start - 60) : start]
        sentence_before = re.split(r"[.!?\n]", before)[-1]
        is_birth = (
            bool(_BIRTH_CUE.search(sentence_before))
            or bool(_BIRTH_AFTER.match(text[end : end + 25]))
            or bool(_BIRTH_JUST_BEFORE.search(before))
        )
        if is_birth and _NOT_BIRTH.search(sentence_before):
            # "due on", "induced on": not a birth date even in a sentence about the birth,
            # unless "born" is nearer to the date than the other word.
            born = list(re.finditer(r"born|birthday|dob|date of birth", sentence_before, re.I))
            other = list(_NOT_BIRTH.finditer(sentence_before))
            if not born or (other and other[-1].start() > born[-1].start()):
                is_birth = False
        kind = DATE_OF_BIRTH if is_birth else DATE
        spans.append(_make(text, start, end, kind, DEFAULT_LABELS[kind], "pattern"))
    return spans


_ADDRESS = re.compile(
    rf"(?<![\w])(?:(?:[Ff]lat|[Aa]partment|[Uu]nit)\s+\d+[A-Za-z]?,?\s+)?"
    rf"(?:\d+[A-Za-z]?,?\s+)?(?:(?:{_WORD})\s+){{1,3}}(?:{_STREET_SUFFIXES})(?![\w])"
)
_GENERIC_STREETS = frozenset({"high street", "main street", "main road", "the park", "the green"})


def _detect_addresses(text: str) -> list[Span]:
    spans = []
    for m in _ADDRESS.finditer(text):
        start, end = m.start(), m.end()
        surface = text[start:end]
        # Drop leading capitalised function words ("Then Park Road", "On Elm Grove").
        words = surface.split()
        while words and words[0].strip(",") in _STOP_CAPS and not words[0][0].isdigit():
            start = text.index(words[1], start + len(words[0])) if len(words) > 1 else end
            words = words[1:]
        if len(words) < 2:
            continue
        surface = text[start:end]
        has_number = bool(re.match(r"(?:[Ff]lat|[Aa]partment|[Uu]nit|\d)", surface))
        street_words = [w for w in words if not re.match(r"\d|[Ff]lat|[Aa]partment|[Uu]nit", w)]
        if not has_number and " ".join(street_words).lower() in _GENERIC_STREETS:
            continue
        if not has_number and words[-1] in ("Park", "Green", "Hill", "View", "Gate", "Court"):
            # "Hyde Park", "Village Green", "Crown Court": a street only with a house number.
            continue
        if any(w.rstrip(",") in _STOP_CAPS for w in street_words[:-1]):
            continue
        spans.append(_make(text, start, end, ADDRESS, DEFAULT_LABELS[ADDRESS], "pattern"))
    return spans


_INST_PREFIX = (
    rf"(?:(?:St\.?|Saint)\s+)?(?:{_WORD})(?:\s+(?:{_WORD}|and|&|of|on|upon|under|le|the))*"
)


def _detect_institutions(text: str, gaz: Gazetteers) -> list[Span]:
    spans = []
    for suffix, label in _INSTITUTION_SUFFIXES:
        pattern = re.compile(rf"(?<![\w])({_INST_PREFIX})\s+(?:{suffix})(?![\w])")
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            words = re.findall(r"\S+", text[start : m.end(1)])
            pos = start
            # Trim capitalised function words at the front ("Then", "At", "My").
            while words and (words[0] in _STOP_CAPS or words[0].lower() in ("the",)):
                pos = text.index(words[0], pos) + len(words[0])
                words = words[1:]
                while pos < end and text[pos].isspace():
                    pos += 1
            if not words:
                continue
            if all(w in ("and", "&", "of", "on", "upon", "under", "le", "the") for w in words):
                continue
            spans.append(_make(text, pos, end, INSTITUTION, label, "pattern"))
    for m in re.finditer(rf"(?<![\w])HMP(?:YOI)?\s+(?:{_WORD})(?:\s+(?:{_WORD}))?", text):
        spans.append(_make(text, m.start(), m.end(), INSTITUTION, "justice", "pattern"))
    # "Ward 42", "Ward 6B": a numbered hospital ward.
    for m in re.finditer(r"(?<![\w])Ward\s+\d{1,3}[A-Z]?(?![\w])", text):
        spans.append(_make(text, m.start(), m.end(), INSTITUTION, "ward", "pattern"))
    # "St Mary's", "St James's": a hospital or school named for a saint, alone.
    for m in re.finditer(r"(?<![\w])(?:St\.?|Saint)\s+[A-Z][a-z]+['’]s?(?![\w])", text):
        spans.append(_make(text, m.start(), m.end(), INSTITUTION, "institution", "pattern"))
    for name, label in gaz.institutions.items():
        for m in re.finditer(rf"(?<![\w]){re.escape(name)}(?![\w])", text):
            spans.append(_make(text, m.start(), m.end(), INSTITUTION, label, "gazetteer"))
    return spans


_PLACE_CUES_TEXT = (
    "in from to near at round around outside towards into moved live lives lived living back "
    "via of up down"
)
_PLACE_CUES = frozenset(_PLACE_CUES_TEXT.split())
_VERB_AFTER_TEXT = (
    "the a an my his her their your our it its that this these those them about up through "
    "and books letters stuff things"
)
_VERB_AFTER = frozenset(_VERB_AFTER_TEXT.split())
_PLACE_AFTER = re.compile(
    r"^(?:\s+(?:was|is|has|had|were|station|town|city|centre|council|hospital|general)\b|[’']s\b|,)"
)


def _detect_places(text: str, gaz: Gazetteers) -> list[Span]:
    spans: list[Span] = []
    names = sorted(gaz.places, key=len, reverse=True)
    if names:
        pattern = re.compile(
            r"(?<![\w'’-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-]|['’][a-rt-z])"
        )
        for m in pattern.finditer(text):
            name = m.group(1)
            start, end = m.start(1), m.end(1)
            if name in gaz.ambiguous_places:
                prev = _prev_words(text, start, 1)
                after = text[end : end + 30]
                nxt = _next_word(text, end).lower()
                if _is_sentence_start(text, start):
                    if nxt in _VERB_AFTER or not _PLACE_AFTER.match(after):
                        continue
                elif not (prev and prev[0] in _PLACE_CUES) and not _PLACE_AFTER.match(after):
                    continue
                if nxt in _VERB_AFTER and not (prev and prev[0] in _PLACE_CUES):
                    continue
            spans.append(_make(text, start, end, PLACE, gaz.places[name], "gazetteer"))
    # "the Bellgrove estate", "on the Seacroft Estate"
    for m in re.finditer(rf"(?<![\w])the\s+((?:{_WORD})(?:\s+(?:{_WORD}))?)\s+[Ee]state\b", text):
        if m.group(1).split()[0] in _STOP_CAPS:
            continue
        spans.append(_make(text, m.start(1), m.end(1), PLACE, "area", "cue"))
    # "moved to Ambleside", "grew up in Tonypandy": a capitalised place not in the gazetteer.
    cue = (
        r"(?:moved|moving|move)\s+(?:back\s+)?(?:to|from)|(?:live|lives|lived|living)\s+in"
        r"|grew\s+up\s+in|(?:was\s+)?born\s+in|from\s+a\s+village\s+called|a\s+village\s+called"
    )
    for m in re.finditer(rf"\b(?:{cue})\s+((?:{_WORD})(?:[\s-]+(?:{_WORD})){{0,2}})", text):
        words = m.group(1).split()
        if words[0] in _STOP_CAPS or words[0] in gaz.first_names:
            continue
        # Stop at a capitalised word that starts an institution or a function word.
        kept = []
        for w in words:
            if w in _STOP_CAPS:
                break
            kept.append(w)
        surface = " ".join(kept)
        if not kept or surface not in m.group(1):
            continue
        start = m.start(1)
        spans.append(_make(text, start, start + len(surface), PLACE, "town", "cue"))
    return spans


_PERSON_CUES = re.compile(
    r"\b(?:(?:my|his|her|our|their|your|the)\s+(?:little\s+|eldest\s+|youngest\s+|older\s+"
    r"|younger\s+|baby\s+|new\s+|old\s+|ex[\s-]?)?(?:mum|mam|mom|mother|dad|father|nan|nana"
    r"|gran|grandma|granny|grandad|sister|brother|partner|boyfriend|girlfriend|husband|wife"
    r"|fiancée?|ex|son|daughter|baby|boy|girl|lad|friend|mate|aunt|auntie|aunty|uncle|cousin"
    r"|niece|nephew|key\s?worker|midwife|social\s+worker|health\s+visitor|worker|doctor|GP"
    r"|nurse|support\s+worker|care\s+coordinator|solicitor|probation\s+officer|foster\s+carer"
    r"|carer)|called|named|name\s+is|name's|name\s+was|known\s+as|christened|with|and|"
    r"said\s+to|told|asked|thank|thanks|love|loves|loved|met|meet|see|saw|rang|phoned|texted)"
    r"[,:]?\s+$",
    re.IGNORECASE,
)
_TITLES = re.compile(
    rf"(?<![\w])(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Nurse|Sister|Dr\.|Mr\.|Mrs\.|Ms\.)\s+({_WORD})"
)
_STRONG_CUES = re.compile(
    r"(?:called|named|name\s+is|name's|name\s+was|known\s+as|christened|my\s+\w+(?:\s+\w+)?)"
    r"[,:]?\s+$",
    re.IGNORECASE,
)
_NAME_FOLLOWERS_TEXT = (
    "was is has had said says came went and got were did does will would can could loves "
    "likes needs wanted started kept cried sleeps slept s"
)
_NAME_FOLLOWERS = frozenset(_NAME_FOLLOWERS_TEXT.split())


def _surname_end(text: str, end: int, gaz: Gazetteers, excluded: set[str]) -> int:
    m = re.match(rf" ((?:{_WORD}))", text[end:])
    if not m:
        return end
    word = m.group(1)
    if (
        word in _STOP_CAPS
        or word in gaz.places
        or word in excluded
        or re.fullmatch(_STREET_SUFFIXES, word)
        or any(re.fullmatch(s, word) for s, _ in _INSTITUTION_SUFFIXES)
        or _strip_possessive(word) in ("Hospital", "Centre", "Road", "Street")
    ):
        return end
    return end + 1 + len(_strip_possessive(word))


_HYPHEN_NAME = re.compile(r"-[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
_CONTRACTION_TEXT = "a an the not never so very really what all everything important been got"
_CONTRACTION_AFTER = frozenset(_CONTRACTION_TEXT.split())


def _hyphen_end(text: str, end: int) -> int:
    """Extend a name over a hyphenated second part: "Lily" → "Lily-Rose"."""
    m = _HYPHEN_NAME.match(text, end)
    return m.end() if m else end


def _detect_people(text: str, gaz: Gazetteers, known: Mapping[str, str]) -> list[Span]:
    spans: list[Span] = []
    known_tokens = set()
    for name, role in known.items():
        name = name.strip()
        if not name:
            continue
        variants = [name]
        parts = name.split()
        if len(parts) > 1 and parts[0] not in gaz.word_names:
            variants.append(parts[0])
        for variant in variants:
            known_tokens.add(variant)
            flags = 0 if variant in gaz.word_names else re.IGNORECASE
            for m in re.finditer(rf"(?<![\w-]){re.escape(variant)}(?![\w])", text, flags):
                start, end = m.start(), _hyphen_end(text, m.end())
                if variant in gaz.word_names and not _word_name_is_name(
                    text, start, m.end(), gaz, True, known=True
                ):
                    continue
                spans.append(_make(text, start, end, PERSON, role, "known-people"))
    for m in _TITLES.finditer(text):
        start = m.start(1)
        word = _strip_possessive(m.group(1))
        if word in _STOP_CAPS:
            continue
        end = _surname_end(text, start + len(word), gaz, set())
        spans.append(_make(text, start, end, PERSON, DEFAULT_LABELS[PERSON], "cue"))
    for m in _CAP_TOKEN.finditer(text):
        token = _strip_possessive(m.group(0).rstrip("-"))
        word = token.split("-")[0]
        start, end = m.start(), m.start() + len(word)
        if word in _STOP_CAPS or word in known_tokens:
            continue
        if token != word and not _HYPHEN_NAME.fullmatch(token[len(word) :]):
            continue  # "Anne-marie" fine, "Self-Help" not a name
        before = text[max(0, start - 40) : start]
        strong = bool(_STRONG_CUES.search(before))
        cued = strong or bool(_PERSON_CUES.search(before))
        if word in gaz.first_names:
            if word in gaz.word_names and not _word_name_is_name(text, start, end, gaz, strong):
                continue
            if word in gaz.places and not cued:
                continue
            end = _surname_end(text, _hyphen_end(text, end), gaz, known_tokens)
            source = "cue" if cued else "first-names"
            spans.append(_make(text, start, end, PERSON, DEFAULT_LABELS[PERSON], source))
        elif (
            strong
            and not _is_sentence_start(text, start)
            and (word not in gaz.places or word in gaz.ambiguous_places)
        ):
            if re.fullmatch(r"[A-Z]+", word) and len(word) > 1:
                continue  # an acronym
            end = _surname_end(text, _hyphen_end(text, end), gaz, known_tokens)
            spans.append(_make(text, start, end, PERSON, DEFAULT_LABELS[PERSON], "cue"))
    return spans


_SPEAKER_NAME = re.compile(
    r"^[ \t]*(?:[\[(][\d:.]+[\])][ \t]*)?([A-Z][a-z'’]+(?:[ -][A-Z][a-z'’]+)?)[ \t]*:", re.MULTILINE
)


def _detect_speaker_names(text: str) -> list[Span]:
    """A name used as a speaker label ("Beverley: ...") is an identifier, even if a town."""
    spans = []
    for m in _SPEAKER_NAME.finditer(text):
        words = m.group(1).replace("-", " ").split()
        if any(w in _STOP_CAPS for w in words) or words[0] in _LABEL_WORDS:
            continue
        spans.append(
            _make(text, m.start(1), m.end(1), PERSON, DEFAULT_LABELS[PERSON], "speaker-label")
        )
    return spans


_LABEL_WORDS_TEXT = (
    "Interviewer Interviewee Participant Speaker Respondent Facilitator Moderator Researcher "
    "Woman Mother Midwife Staff Practitioner Note Notes Date Time Location Re Subject Health "
    "Social Specialist Family Key Support Recovery Community Senior Team Manager Unknown "
    "Inaudible Crosstalk Transcriber Audio Video Question Answer Q A"
)
_LABEL_WORDS = frozenset(_LABEL_WORDS_TEXT.split())


def _word_name_is_name(
    text: str, start: int, end: int, gaz: Gazetteers, cued: bool, *, known: bool = False
) -> bool:
    """Whether "Grace", "Hope", "Will" here is a name rather than the word."""
    word = text[start:end]
    if not word[:1].isupper():
        return False
    after = text[end : end + 12]
    if re.match(r"\s+of\s+God", after, re.IGNORECASE):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    if not text[line_start:start].strip() and re.match(r"[ \t]*:", after):
        return True  # a speaker label: "Dawn: ..."
    nxt = _next_word(text, end).lower()
    if re.match(r"['’]s\b", after):
        contraction = _next_word(text, end + 2).lower() in _CONTRACTION_AFTER
        if not (contraction and _is_sentence_start(text, start) and not known):
            return True
    if _is_sentence_start(text, start):
        return nxt in _NAME_FOLLOWERS
    if cued:
        return True
    prev = _prev_words(text, start, 1)
    if prev and prev[0] in ("in", "on", "since", "until", "by", "of", "last", "next", "this"):
        # "in May", "since June": a month; "by the Grace" handled above.
        return word not in ("May", "June", "April", "Summer", "Autumn")
    return True


def _resolve(spans: Iterable[Span]) -> list[Span]:
    """Keep non-overlapping spans: longest first, then by source rank, then earliest."""
    ordered = sorted(
        spans, key=lambda s: (-(s.end - s.start), _SOURCE_RANK.get(s.source, 9), s.start)
    )
    kept = _Intervals()
    out: list[Span] = []
    for s in ordered:
        if not kept.overlaps(s.start, s.end):
            kept.add(s.start, s.end)
            out.append(s)
    return sorted(out, key=lambda s: (s.start, s.end))


class _Intervals:
    """Non-overlapping intervals, sorted, with an O(log n) overlap test."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end)  # intervals starting before our end
        return i > 0 and self.ends[i - 1] > start

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)


def detect(
    text: str,
    *,
    known_people: Mapping[str, str] | None = None,
    gazetteers: Gazetteers | None = None,
    kinds: Iterable[str] | None = None,
    extra_detectors: Sequence[Callable[[str], Iterable[Span]]] = (),
) -> list[Span]:
    """Suggest identifiers in ``text``, in order, not overlapping.

    ``known_people`` maps names from the participant's own list of people mentioned to role
    labels (``{"Kayden": "baby's name", "Darren": "partner"}``); a multi-word name also
    matches its first word. Names that are ordinary words ("Grace", "Hope") match only where
    they read as names. ``extra_detectors`` are called with the text and their spans join
    the rules' before overlaps are resolved (the hook for a named-entity model; give their
    spans a ``source`` such as ``"model"``, ranked after the rules).
    """
    gaz = gazetteers or DEFAULT_GAZETTEERS
    known = dict(known_people or {})
    wanted = set(kinds) if kinds is not None else set(KINDS)
    unknown = wanted - set(KINDS)
    if unknown:
        raise DeidentifyError(f"unknown kinds: {', '.join(sorted(unknown))}")
    found: list[Span] = []
    found += _detect_emails(text)
    found += _detect_postcodes(text)
    found += _detect_health_numbers(text)
    found += _detect_phones(text)
    found += _detect_dates(text)
    found += _detect_addresses(text)
    found += _detect_institutions(text, gaz)
    found += _detect_places(text, gaz)
    found += _detect_people(text, gaz, known)
    found += _detect_speaker_names(text)
    for extra in extra_detectors:
        found += list(extra(text))
    # A known person always wins over another reading of the same words.
    known_cover = _Intervals()
    for s in _resolve(x for x in found if x.source == "known-people"):
        known_cover.add(s.start, s.end)
    rest = [
        s
        for s in found
        if s.source == "known-people"
        or s.kind not in (PERSON, PLACE)
        or not known_cover.overlaps(s.start, s.end)
    ]
    return [s for s in _resolve(rest) if s.kind in wanted]


def context(text: str, span: Span, width: int = 40) -> tuple[str, str, str]:
    """The words before, the span itself and the words after: one row of a review screen."""
    return (
        text[max(0, span.start - width) : span.start],
        text[span.start : span.end],
        text[span.end : span.end + width],
    )


# --------------------------------------------------------------------------- review + apply


def _whole_word_occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    pattern = rf"(?<![\w]){re.escape(needle)}(?![\w])"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def reviewed_spans(
    text: str, spans: Sequence[Span], decisions: Sequence[Decision] = ()
) -> list[Span]:
    """The spans to replace once the decisions are applied (no decision: accepted)."""
    by_offsets: dict[tuple[int, int], list[Span]] = defaultdict(list)
    for s in spans:
        if s.end > len(text):
            raise DeidentifyError(f"span {s.start}..{s.end} is past the end of the text")
        if s.text and text[s.start : s.end] != s.text:
            raise DeidentifyError(
                f"span {s.start}..{s.end} does not match the text (detected on another text?)"
            )
        by_offsets[(s.start, s.end)].append(s)
    current: dict[tuple[int, int, str], Span] = {(s.start, s.end, s.kind): s for s in spans}
    for d in decisions:
        if not 0 <= d.start < d.end <= len(text):
            raise DeidentifyError(f"decision {d.action} {d.start}..{d.end} is outside the text")
        if d.action == "add":
            assert d.kind is not None
            label = d.label or DEFAULT_LABELS[d.kind]
            places = (
                _whole_word_occurrences(text, text[d.start : d.end]) if d.everywhere else []
            ) or [(d.start, d.end)]
            for a, b in places:
                current[(a, b, d.kind)] = _make(text, a, b, d.kind, label, "review", d.note)
            continue
        targets = [s for s in by_offsets.get((d.start, d.end), []) if d.kind in (None, s.kind)]
        if not targets:
            raise DeidentifyError(
                f"decision {d.action} {d.start}..{d.end}: no suggested span there"
            )
        if d.action == "reject":
            for t in targets:
                if d.everywhere:
                    key = normalise_original(t.kind, t.text)
                    for k, s in list(current.items()):
                        if s.kind == t.kind and normalise_original(s.kind, s.text) == key:
                            del current[k]
                current.pop((t.start, t.end, t.kind), None)
        else:  # accept, maybe relabelled
            for t in targets:
                current.pop((t.start, t.end, t.kind), None)
                kind = d.kind or t.kind
                current[(t.start, t.end, kind)] = replace(t, kind=kind, label=d.label or t.label)
    return _merge(current.values())


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping spans become one (labelled as the longest); touching spans stay apart."""
    merged: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            longest = last if last.end - last.start >= s.end - s.start else s
            start, end = last.start, max(last.end, s.end)
            merged[-1] = replace(longest, start=start, end=end, text="")
        else:
            merged.append(s)
    return merged


def _base_and_key(text: str, s: Span) -> tuple[str, str]:
    surface = text[s.start : s.end]
    if s.source == "known-people":
        return s.label, ""  # one role, one person, however spelled
    return s.label, normalise_original(s.kind, surface)


def apply(
    text: str,
    spans: Sequence[Span],
    decisions: Sequence[Decision] = (),
    *,
    mapping: LabelMap | None = None,
    document_id: str = "",
) -> tuple[str, LabelMap]:
    """Replace the reviewed spans with labels; return the new text and the (shared) map.

    Pass the same ``mapping`` for every document of a set, so that the same original gets
    the same label throughout; or use ``apply_set``.
    """
    mapping = mapping if mapping is not None else LabelMap()
    final = reviewed_spans(text, spans, decisions)
    for s in final:
        mapping.register(*_base_and_key(text, s))
    return _render(text, final, mapping, document_id), mapping


def _render(text: str, final: Sequence[Span], mapping: LabelMap, document_id: str) -> str:
    out: list[str] = []
    pos = 0
    length = 0
    for s in final:
        chunk = text[pos : s.start]
        out.append(chunk)
        length += len(chunk)
        label = mapping.render(*_base_and_key(text, s))
        out.append(label)
        mapping.replacements.append(
            Replacement(
                document_id, s.start, s.end, length, length + len(label), s.kind, label, s.source
            )
        )
        length += len(label)
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def apply_set(
    documents: Sequence[tuple[str, Sequence[Span], Sequence[Decision]]],
    *,
    mapping: LabelMap | None = None,
    document_ids: Sequence[str] | None = None,
) -> tuple[list[str], LabelMap]:
    """``apply`` over a whole set at once: every original is seen before any label is given,
    so a label with one original is ``[town]`` and with several ``[town 1]``, ``[town 2]``."""
    mapping = mapping if mapping is not None else LabelMap()
    ids = (
        list(document_ids) if document_ids is not None else [str(i) for i in range(len(documents))]
    )
    if len(ids) != len(documents):
        raise DeidentifyError("one document id per document")
    finals = []
    for text, spans, decisions in documents:
        final = reviewed_spans(text, spans, decisions)
        for s in final:
            mapping.register(*_base_and_key(text, s))
        finals.append(final)
    outputs = [
        _render(text, final, mapping, doc_id)
        for (text, _, _), final, doc_id in zip(documents, finals, ids, strict=True)
    ]
    return outputs, mapping


# --------------------------------------------------------------------------- corpus + scores


@dataclass(frozen=True)
class CorpusItem:
    id: str
    text: str
    spans: tuple[tuple[int, int, str], ...]
    known_people: Mapping[str, str]
    role: str = ""
    note: str = ""
    split: str = "dev"


def load_corpus(name: str = "deidentify.jsonl") -> list[CorpusItem]:
    """The shipped synthetic labelled corpus (every excerpt written for the purpose)."""
    raw = resources.files("steppingstones.voices").joinpath("corpus", name).read_text("utf-8")
    items = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        if "meta" in rec:
            continue
        if rec.get("synthetic") is not True:
            raise DeidentifyError(f"{name} line {n}: every record must say synthetic: true")
        spans = tuple((int(a), int(b), str(k)) for a, b, k in rec.get("spans", []))
        for a, b, k in spans:
            if k not in KINDS or not 0 <= a < b <= len(rec["text"]):
                raise DeidentifyError(f"{name} line {n}: bad span {a}..{b} {k}")
        items.append(
            CorpusItem(
                id=rec["id"],
                text=rec["text"],
                spans=spans,
                known_people=dict(rec.get("known_people", {})),
                role=rec.get("role", ""),
                note=rec.get("note", ""),
                split=rec.get("split", "dev"),
            )
        )
    return items


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


Predictor = Callable[[CorpusItem], Iterable[tuple[int, int, str]]]


def evaluate(
    items: Sequence[CorpusItem],
    predict: Predictor,
    *,
    match: Literal["strict", "overlap"] = "strict",
    kinds: Iterable[str] | None = None,
) -> dict[str, Score]:
    """Precision/recall per kind and ``"overall"``.

    ``strict``: same start, end and kind. ``overlap``: same kind and overlapping (each gold
    span and each prediction counted once). ``kinds`` limits scoring to those kinds (for a
    peer that looks for fewer kinds).
    """
    keep = set(kinds) if kinds is not None else set(KINDS)
    scores: dict[str, Score] = {k: Score() for k in KINDS if k in keep}
    for item in items:
        gold = [g for g in item.spans if g[2] in keep]
        pred = sorted({p for p in predict(item) if p[2] in keep})
        used: set[int] = set()
        for p in pred:
            hit = None
            for i, g in enumerate(gold):
                if i in used or g[2] != p[2]:
                    continue
                same = g[0] == p[0] and g[1] == p[1]
                if same or (match == "overlap" and g[0] < p[1] and p[0] < g[1]):
                    hit = i
                    break
            if hit is None:
                scores[p[2]].fp += 1
            else:
                used.add(hit)
                scores[p[2]].tp += 1
        for i, g in enumerate(gold):
            if i not in used:
                scores[g[2]].fn += 1
    overall = Score(
        sum(s.tp for s in scores.values()),
        sum(s.fp for s in scores.values()),
        sum(s.fn for s in scores.values()),
    )
    scores["overall"] = overall
    return scores


def redaction_recall(items: Sequence[CorpusItem], predict: Predictor) -> float:
    """Share of gold identifier characters covered by any prediction, whatever its kind."""
    covered = total = 0
    for item in items:
        marked: set[int] = set()
        for a, b, _ in predict(item):
            marked.update(range(a, b))
        for a, b, _ in item.spans:
            total += b - a
            covered += sum(1 for i in range(a, b) if i in marked)
    return covered / total if total else 1.0


def detect_corpus_item(item: CorpusItem) -> list[tuple[int, int, str]]:
    """``detect`` on a corpus item with its known people, as (start, end, kind)."""
    return [(s.start, s.end, s.kind) for s in detect(item.text, known_people=item.known_people)]
