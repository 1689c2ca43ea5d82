"""Deterministic generator of a realistic Techman customer export (design §5.1).

Used by `make demo`, the benchmark and the tests. The file looks like what a UK garage's
Techman system exports: one row per customer-vehicle pair, UK names, addresses, postcodes and
phone numbers written every way people write them, day-first dates, `True`/`False` booleans
(with a few `Yes`/`No`/`1`/`0`), UTF-8 with Windows line endings.

Determinism: the data of a customer depends only on `seed` and its `CustomerNumber`, so two
files made with the same seed agree on every customer number they share (choose
`first_customer_number` to make a second file that overlaps on purpose, or one that does not).
The choice of deliberately bad customers and of the one multi-line address depends on all the
arguments. No wall clock is read: "now" is the fixed `EXPORT_TIME`.

Phone numbers are real numbering-plan numbers accepted by `phonenumbers` for region GB:
mobiles are drawn from 074xx-079xx and checked one by one; landlines come from Ofcom's
drama ranges (e.g. 0161 496 0xxx, 020 7946 0xxx) that `phonenumbers` accepts, so no landline
belongs to a real subscriber.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import phonenumbers
from customer_import.sources.techman import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

__all__ = [
    "CUSTOMER_COLUMNS",
    "EXPORT_TIME",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TECHMAN_COLUMNS",
    "VEHICLE_COLUMNS",
    "SampleSummary",
    "write_techman_sample",
]

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "CustomerNumber",
    "Title",
    "CustomerName",
    "Phone",
    "PhoneLandline",
    "Email",
    "Address1",
    "Address2",
    "Address3",
    "Town",
    "County",
    "Postcode",
    "Country",
    "DeliveryAddress1",
    "DeliveryAddress2",
    "DeliveryTown",
    "DeliveryPostcode",
    "CustomerGroupName",
    "AccountCustomer",
    "VATRegistered",
    "VATNumber",
    "CustomerOnStop",
    "VehicleRemindersEnabled",
    "NotificationsEnabled",
    "NotificationPreferences",
    "DateCreated",
    "LastVisit",
)

VEHICLE_COLUMNS: tuple[str, ...] = (
    "VehicleRegistration",
    "VehicleMake",
    "VehicleModel",
    "VehicleVIN",
    "VehicleFirstRegistered",
    "VehicleMOTDue",
    "VehicleMileage",
)

# Header order of the export: customer columns, then the vehicle of the row. Every column
# the adapter knows, each once (the contract itself lives in `customer_import.sources.techman`), but
# `CustomerId`: our own customer id, which a Techman export cannot hold (a file for an update
# by internal key adds it).
TECHMAN_COLUMNS: tuple[str, ...] = CUSTOMER_COLUMNS + VEHICLE_COLUMNS

EXPORTED_COLUMNS = tuple(c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c != "CustomerId")
assert sorted(TECHMAN_COLUMNS) == sorted(EXPORTED_COLUMNS)

# "Now" for the generated data: the export was taken on this morning.
EXPORT_TIME = datetime(2026, 11, 22, 8, 45, 0)
_EARLIEST_CREATED = datetime(2009, 3, 2, 9, 0, 0)


@dataclass(frozen=True)
class SampleSummary:
    customers: int  # distinct CustomerNumber values
    rows: int  # data rows (one per customer-vehicle pair; one row for a customer with no vehicle)
    vehicles: int
    bad_customers: tuple[str, ...]  # CustomerNumbers whose rows carry a deliberate error


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_MALE_FIRST = _words(
    "James John David Michael Paul Andrew Mark Richard Peter Robert Stephen Christopher Daniel "
    "Thomas Matthew Simon Gary Ian Steven Anthony Jonathan Martin Kevin Alan Graham Neil Lee "
    "Jason Craig Adam Ryan Jack Oliver Harry George Charlie Liam Callum Connor Mohammed Ali "
    "Imran Raj Sanjay Wayne Darren Dean Stuart Gareth Rhys Owen Dylan Ben Sam Luke Joshua"
)
_FEMALE_FIRST = _words(
    "Sarah Emma Claire Laura Rachel Helen Nicola Karen Susan Julie Lisa Amanda Joanne Louise "
    "Rebecca Hannah Sophie Charlotte Emily Jessica Amy Lucy Katie Gemma Victoria Jennifer "
    "Michelle Kelly Donna Tracey Alison Deborah Margaret Patricia Elizabeth Anne Jane Ruth "
    "Fiona Catherine Megan Olivia Amelia Isla Grace Chloe Zoe Ellie Priya Aisha Fatima Sian"
)
# Rare spellings with characters outside ASCII (UTF-8 exercise).
_MALE_FIRST_RARE = ("José", "Noël", "Seán", "Ciarán", "Jürgen", "François", "Björn")
_FEMALE_FIRST_RARE = ("Zoë", "Chloë", "Renée", "Siân", "Anaïs", "Zsófia", "Mélanie")

_SURNAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Hughes Edwards Turner Hill Moore "
    "Cooper Ward Harris Martin King Lee Allen Baker Harrison Morgan Patel Khan Shah Ahmed "
    "Hussain Singh Young Scott Mitchell Carter Phillips Parker Bennett Shaw Lewis Watson "
    "Campbell Stewart Murray MacDonald Kelly Murphy Price Griffiths Lloyd Owen Bell Fox Mason "
    "Chapman Marshall Dixon Holmes Knight Webb Barker Atkinson Pearson Lawrence Fletcher"
)
_SURNAMES_RARE = (
    "O\u2019Brien",
    "O\u2019Connor",
    "D\u2019Souza",
    "O'Neill",
    "Müller",
    "Brontë",
    "Núñez",
    "Lefèvre",
    "Göksu",
    "Sánchez",
    "Kowalczyk",
    "Nowak",
)

_TRADES = (
    "Plumbing & Heating",
    "Electrical",
    "Builders",
    "Roofing",
    "Landscapes",
    "Joinery",
    "Scaffolding",
    "Logistics",
    "Couriers",
    "Private Hire",
    "Cleaning Services",
    "Plant Hire",
    "Groundworks",
    "Decorators",
    "Glazing",
    "Motor Factors",
)
_BRAND_WORDS = (
    "Northern",
    "Pennine",
    "Riverside",
    "Redline",
    "Greenway",
    "Summit",
    "Apex",
    "Crown",
    "Phoenix",
    "Castle",
    "Oakwood",
    "Premier",
    "Swift",
    "Kingfisher",
    "Meridian",
    "Valley",
)
_COMPANY_SUFFIXES = ("Ltd", "Ltd", "Ltd", "Limited", "LLP", "")

# (town, county, nation, postcode areas, first district, last district, landline area code, weight)
_TOWNS: tuple[tuple[str, str, str, tuple[str, ...], int, int, str, int], ...] = (
    ("London", "Greater London", "England", ("SW", "SE", "N", "E", "NW", "W"), 1, 20, "020", 30),
    ("Croydon", "Surrey", "England", ("CR",), 0, 9, "020", 4),
    ("Birmingham", "West Midlands", "England", ("B",), 1, 99, "0121", 12),
    ("Coventry", "West Midlands", "England", ("CV",), 1, 6, "0121", 4),
    ("Wolverhampton", "West Midlands", "England", ("WV",), 1, 14, "0121", 3),
    ("Solihull", "West Midlands", "England", ("B",), 90, 94, "0121", 2),
    ("Manchester", "Greater Manchester", "England", ("M",), 1, 40, "0161", 12),
    ("Stockport", "Greater Manchester", "England", ("SK",), 1, 8, "0161", 4),
    ("Salford", "Greater Manchester", "England", ("M",), 3, 7, "0161", 3),
    ("Bolton", "Greater Manchester", "England", ("BL",), 1, 7, "0161", 3),
    ("Leeds", "West Yorkshire", "England", ("LS",), 1, 29, "0113", 10),
    ("Bradford", "West Yorkshire", "England", ("BD",), 1, 22, "0113", 5),
    ("Wakefield", "West Yorkshire", "England", ("WF",), 1, 17, "0113", 3),
    ("Harrogate", "North Yorkshire", "England", ("HG",), 1, 5, "0113", 2),
    ("York", "North Yorkshire", "England", ("YO",), 1, 32, "0113", 3),
    ("Sheffield", "South Yorkshire", "England", ("S",), 1, 36, "0114", 7),
    ("Rotherham", "South Yorkshire", "England", ("S",), 60, 66, "0114", 2),
    ("Doncaster", "South Yorkshire", "England", ("DN",), 1, 12, "0114", 3),
    ("Leicester", "Leicestershire", "England", ("LE",), 1, 19, "0116", 5),
    ("Nottingham", "Nottinghamshire", "England", ("NG",), 1, 17, "0116", 5),
    ("Derby", "Derbyshire", "England", ("DE",), 1, 24, "0116", 3),
    ("Bristol", "Avon", "England", ("BS",), 1, 16, "0117", 7),
    ("Bath", "Somerset", "England", ("BA",), 1, 2, "0117", 2),
    ("Reading", "Berkshire", "England", ("RG",), 1, 31, "0118", 4),
    ("Oxford", "Oxfordshire", "England", ("OX",), 1, 4, "0118", 3),
    ("Liverpool", "Merseyside", "England", ("L",), 1, 37, "0151", 7),
    ("Birkenhead", "Merseyside", "England", ("CH",), 41, 49, "0151", 2),
    ("Chester", "Cheshire", "England", ("CH",), 1, 4, "0151", 2),
    ("Newcastle upon Tyne", "Tyne and Wear", "England", ("NE",), 1, 15, "0191", 5),
    ("Sunderland", "Tyne and Wear", "England", ("SR",), 1, 7, "0191", 3),
    ("Durham", "County Durham", "England", ("DH",), 1, 9, "0191", 2),
    ("Edinburgh", "Midlothian", "Scotland", ("EH",), 1, 17, "0131", 5),
    ("Glasgow", "Lanarkshire", "Scotland", ("G",), 1, 53, "0141", 6),
    ("Paisley", "Renfrewshire", "Scotland", ("PA",), 1, 3, "0141", 2),
    ("Cardiff", "South Glamorgan", "Wales", ("CF",), 10, 24, "029", 4),
    ("Newport", "Gwent", "Wales", ("NP",), 10, 20, "029", 2),
    ("Swansea", "West Glamorgan", "Wales", ("SA",), 1, 9, "029", 2),
    ("Belfast", "County Antrim", "Northern Ireland", ("BT",), 1, 17, "028", 4),
)
_TOWN_CUMULATIVE = tuple(itertools.accumulate(t[7] for t in _TOWNS))

# Landline drama ranges (Ofcom, for fiction) that phonenumbers accepts as valid GB numbers:
# area code -> (fixed local prefix, number of free trailing digits).
_LANDLINE_RANGES: dict[str, tuple[str, int]] = {
    "020": ("79460", 3),
    "0113": ("4960", 3),
    "0114": ("4960", 3),
    "0116": ("4960", 3),
    "0117": ("4960", 3),
    "0118": ("4960", 3),
    "0121": ("4960", 3),
    "0131": ("4960", 3),
    "0141": ("4960", 3),
    "0151": ("4960", 3),
    "0161": ("4960", 3),
    "0191": ("4980", 3),
    "028": ("96496", 3),
    "029": ("20180", 3),
}

_STREET_NAMES = _words(
    "Church Station Mill Park Victoria Albert King Queen Manor Chapel Grange Oak Elm Beech "
    "Willow Meadow Orchard Springfield Highfield Westfield Windsor York Clarence George Green "
    "Hill School Bridge Castle Abbey Cedar Ash Holly Rowan Poplar Coronation Kingsway Moor "
    "Farm Brook Heath Common Crown Nelson Wellington Jubilee Hawthorn Sycamore Lime"
)
_STREET_TYPES = (
    "Road",
    "Road",
    "Street",
    "Street",
    "Lane",
    "Avenue",
    "Close",
    "Drive",
    "Way",
    "Gardens",
    "Crescent",
    "Court",
    "Grove",
    "Place",
    "Terrace",
    "View",
    "Walk",
)
_STREETS_RARE = (
    "Brontë Close",
    "St John\u2019s Road",
    "Queen\u2019s Drive",
    "Lady\u2019s Walk",
    "Ffordd Glyndŵr",
    "Saint-Exupéry Court",
)
_LOCALITIES = (
    "Headingley",
    "Horsforth",
    "Roundhay",
    "Didsbury",
    "Chorlton",
    "Edgbaston",
    "Moseley",
    "Clifton",
    "Jesmond",
    "Morningside",
    "Hillhead",
    "Canton",
    "Ecclesall",
    "Beeston",
    "West Bridgford",
    "Kings Heath",
    "Crosby",
    "Bramhall",
    "Walkley",
    "Oakwood",
)
_BUILDINGS = (
    "The Old Mill",
    "Riverside House",
    "Victoria Court",
    "Albion Works",
    "Kings Court",
    "The Maltings",
    "Priory House",
    "Station Buildings",
)
_ESTATES = (
    "Riverside Industrial Estate",
    "Lakeside Business Park",
    "Canal Side Trading Estate",
    "Airport Industrial Park",
    "Northgate Business Centre",
    "Millennium Way Industrial Estate",
    "Brunel Trading Estate",
)

_PERSONAL_DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "hotmail.co.uk",
    "hotmail.co.uk",
    "hotmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "btinternet.com",
    "icloud.com",
    "sky.com",
    "live.co.uk",
    "aol.com",
    "virginmedia.com",
    "talktalk.net",
    "me.com",
)
_COMPANY_TLDS = (".co.uk", ".co.uk", ".co.uk", ".com", ".uk", ".net")
_COMPANY_MAILBOXES = ("info", "info", "accounts", "office", "admin", "enquiries", "hello")

# make -> (world manufacturer identifier, models, is-van flags per model)
_VEHICLES: tuple[tuple[str, str, tuple[tuple[str, bool], ...], int], ...] = (
    (
        "Ford",
        "WF0",
        (
            ("Fiesta", False),
            ("Focus", False),
            ("Kuga", False),
            ("Puma", False),
            ("Mondeo", False),
            ("Transit", True),
            ("Transit Custom", True),
            ("Ranger", True),
        ),
        16,
    ),
    (
        "Vauxhall",
        "W0L",
        (
            ("Corsa", False),
            ("Astra", False),
            ("Insignia", False),
            ("Mokka", False),
            ("Vivaro", True),
            ("Combo", True),
        ),
        11,
    ),
    (
        "Volkswagen",
        "WVW",
        (
            ("Golf", False),
            ("Polo", False),
            ("Passat", False),
            ("Tiguan", False),
            ("T-Roc", False),
            ("Transporter", True),
            ("Caddy", True),
        ),
        10,
    ),
    (
        "BMW",
        "WBA",
        (
            ("1 Series", False),
            ("3 Series", False),
            ("5 Series", False),
            ("X1", False),
            ("X3", False),
        ),
        6,
    ),
    (
        "Mercedes-Benz",
        "WDD",
        (
            ("A-Class", False),
            ("C-Class", False),
            ("E-Class", False),
            ("Sprinter", True),
            ("Vito", True),
        ),
        6,
    ),
    ("Audi", "WAU", (("A1", False), ("A3", False), ("A4", False), ("Q3", False), ("Q5", False)), 5),
    (
        "Toyota",
        "SB1",
        (
            ("Yaris", False),
            ("Corolla", False),
            ("Aygo", False),
            ("RAV4", False),
            ("C-HR", False),
            ("Hilux", True),
        ),
        7,
    ),
    (
        "Nissan",
        "SJN",
        (("Qashqai", False), ("Juke", False), ("Micra", False), ("Leaf", False), ("Navara", True)),
        6,
    ),
    ("Honda", "SHH", (("Civic", False), ("Jazz", False), ("CR-V", False)), 3),
    ("Kia", "U5Y", (("Sportage", False), ("Ceed", False), ("Picanto", False), ("Niro", False)), 5),
    ("Hyundai", "TMA", (("i10", False), ("i20", False), ("i30", False), ("Tucson", False)), 4),
    (
        "Peugeot",
        "VF3",
        (("208", False), ("308", False), ("2008", False), ("3008", False), ("Partner", True)),
        5,
    ),
    (
        "Renault",
        "VF1",
        (("Clio", False), ("Captur", False), ("Megane", False), ("Kangoo", True), ("Trafic", True)),
        4,
    ),
    (
        "Skoda",
        "TMB",
        (("Octavia", False), ("Fabia", False), ("Superb", False), ("Kodiaq", False)),
        4,
    ),
    (
        "Citroën",
        "VF7",
        (("C3", False), ("C4", False), ("Berlingo", True), ("Dispatch", True)),
        3,
    ),
    (
        "Land Rover",
        "SAL",
        (("Discovery", False), ("Range Rover Evoque", False), ("Defender", False)),
        3,
    ),
    ("MINI", "WMW", (("Hatch", False), ("Countryman", False), ("Clubman", False)), 3),
    ("Fiat", "ZFA", (("500", False), ("Panda", False), ("Ducato", True)), 2),
    ("Volvo", "YV1", (("XC40", False), ("XC60", False), ("V40", False)), 2),
    ("Tesla", "LRW", (("Model 3", False), ("Model Y", False)), 1),
    ("Dacia", "UU1", (("Sandero", False), ("Duster", False)), 2),
    ("Mazda", "JMZ", (("CX-5", False), ("MX-5", False), ("Mazda2", False)), 2),
)
_VEHICLE_CUMULATIVE = tuple(itertools.accumulate(v[3] for v in _VEHICLES))
_VAN_MAKES = tuple(
    (make, wmi, model) for make, wmi, models, _ in _VEHICLES for model, van in models if van
)

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model-year code, 2010 = "A" (30-year cycle)
_PLATE_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"  # no I or Q
_MEMORY_FIRST = "ABCDEFGHKLMNOPRSVWY"  # DVLA region letters
_POSTCODE_INWARD = "ABDEFGHJLNPQRSTUWXYZ"

# Prefix-style plates (N123 ABC) for cars registered before September 2001: first day of each
# letter's period.
_PREFIX_PERIODS: tuple[tuple[date, str], ...] = (
    (date(1995, 8, 1), "N"),
    (date(1996, 8, 1), "P"),
    (date(1997, 8, 1), "R"),
    (date(1998, 8, 1), "S"),
    (date(1999, 3, 1), "T"),
    (date(1999, 9, 1), "V"),
    (date(2000, 3, 1), "W"),
    (date(2000, 9, 1), "X"),
    (date(2001, 3, 1), "Y"),
)
_CURRENT_PLATES_FROM = date(2001, 9, 1)

# Values that no phone normaliser can turn into a number, and emails that are not addresses.
_BAD_PHONES = ("12345", "phone me", "n/a", "077123", "0161 496", "ring after 6pm", "07712 3456")
_BAD_LANDLINES = ("12345", "n/a", "same as mobile", "0161 496", "0207 946", "ex-directory")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _pick_town(rng: random.Random) -> tuple[str, str, str, tuple[str, ...], int, int, str, int]:
    point = rng.random() * _TOWN_CUMULATIVE[-1]
    return _TOWNS[bisect.bisect_right(_TOWN_CUMULATIVE, point)]


def _ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: "O\u2019Brien" -> "obrien", "Zoë" -> "zoe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def _boolean(rng: random.Random, value: bool) -> str:
    """Mostly Techman's `True`/`False`; a few other spellings and some empty cells."""
    r = rng.random()
    if r < 0.90:
        return "True" if value else "False"
    if r < 0.94:
        return "Yes" if value else "No"
    if r < 0.97:
        return "1" if value else "0"
    if r < 0.98:
        return "true" if value else "false"
    return ""


def _format_datetime(rng: random.Random, moment: datetime) -> str:
    r = rng.random()
    if r < 0.80:
        return moment.strftime("%d/%m/%Y %H:%M:%S")
    if r < 0.90:
        return moment.strftime("%d/%m/%Y")
    return f"{moment.day}/{moment.month}/{moment.year} {moment:%H:%M}"


def _random_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment in garage opening hours (07:30-18:30) on a day between start and end."""
    days = max(0, (end.date() - start.date()).days)
    day = start.date() + timedelta(days=rng.randint(0, days))
    seconds = rng.randint(7 * 3600 + 1800, 18 * 3600 + 1800)
    moment = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    return min(max(moment, start), end)


def _postcode(rng: random.Random, areas: tuple[str, ...], low: int, high: int) -> str:
    outward = f"{rng.choice(areas)}{rng.randint(low, high)}"
    inward = f"{rng.randint(0, 9)}{rng.choice(_POSTCODE_INWARD)}{rng.choice(_POSTCODE_INWARD)}"
    r = rng.random()
    if r < 0.94:
        return f"{outward} {inward}"
    if r < 0.98:
        return f"{outward}{inward}"
    return f"{outward} {inward}".lower()


def _street(rng: random.Random) -> str:
    if rng.random() < 0.02:
        return rng.choice(_STREETS_RARE)
    return f"{rng.choice(_STREET_NAMES)} {rng.choice(_STREET_TYPES)}"


def _mobile(rng: random.Random) -> str:
    """A GB mobile (national significant number, 10 digits) that phonenumbers accepts.

    Drawn from 074xx-075xx and 077xx-079xx, where every valid GB number is a mobile (070 are
    personal numbers, 076 pagers), and checked one by one.
    """
    while True:
        nsn = 7_400_000_000 + rng.randrange(500_000_000)
        if nsn >= 7_600_000_000:
            nsn += 100_000_000
        number = phonenumbers.PhoneNumber(country_code=44, national_number=nsn)
        if phonenumbers.is_valid_number_for_region(number, "GB"):
            return str(nsn)


_LANDLINE_VALID: dict[str, bool] = {}


def _landline(rng: random.Random, area_code: str) -> tuple[str, str]:
    """(area code without the trunk 0, local number) in a drama range phonenumbers accepts."""
    prefix, free = _LANDLINE_RANGES[area_code]
    area = area_code[1:]
    while True:
        local = prefix + f"{rng.randrange(10**free):0{free}d}"
        nsn = area + local
        valid = _LANDLINE_VALID.get(nsn)
        if valid is None:
            number = phonenumbers.PhoneNumber(country_code=44, national_number=int(nsn))
            valid = phonenumbers.is_valid_number_for_region(number, "GB")
            _LANDLINE_VALID[nsn] = valid
        if valid:
            return area, local


def _write_mobile(rng: random.Random, nsn: str) -> str:
    head, tail = nsn[:4], nsn[4:]
    r = rng.random()
    if r < 0.55:
        return f"0{head} {tail}"
    if r < 0.70:
        return f"0{nsn}"
    if r < 0.77:
        return f"+44 {head} {tail}"
    if r < 0.82:
        return f"+44 (0){head} {tail}"
    if r < 0.86:
        return f"0044 {head} {tail}"
    if r < 0.92:
        return nsn  # leading zero lost when the file went through Excel
    if r < 0.96:
        return f"+44{nsn}"
    return f"0{head} {tail[:3]} {tail[3:]}"


def _write_landline(rng: random.Random, area: str, local: str) -> str:
    grouped = f"{local[:4]} {local[4:]}" if len(local) == 8 else f"{local[:3]} {local[3:]}"
    r = rng.random()
    if r < 0.50:
        return f"0{area} {grouped}"
    if r < 0.62:
        return f"0{area}{local}"
    if r < 0.74:
        return f"(0{area}) {grouped}"
    if r < 0.82:
        return f"+44 {area} {grouped}"
    if r < 0.87:
        return f"+44 (0){area} {grouped}"
    if r < 0.91:
        return f"0044 {area} {grouped}"
    return f"{area}{local}"  # leading zero lost


def _vat_number(rng: random.Random) -> str:
    """A UK VAT number with a correct mod-97 check (new 9755 scheme)."""
    digits = [rng.randint(1 if i == 0 else 0, 9) for i in range(7)]
    total = sum(d * w for d, w in zip(digits, range(8, 1, -1), strict=True)) + 55
    check = (-total) % 97
    body = "".join(map(str, digits)) + f"{check:02d}"
    r = rng.random()
    if r < 0.60:
        return f"GB{body}"
    if r < 0.85:
        return f"GB {body[:3]} {body[3:7]} {body[7:]}"
    return body


def _plate(rng: random.Random, registered: date) -> str:
    letters = "".join(rng.choice(_PLATE_LETTERS) for _ in range(3))
    if registered >= _CURRENT_PLATES_FROM:
        if 3 <= registered.month <= 8:
            age = registered.year % 100
        elif registered.month >= 9:
            age = registered.year % 100 + 50
        else:
            age = (registered.year - 1) % 100 + 50
        memory = rng.choice(_MEMORY_FIRST) + rng.choice(_PLATE_LETTERS)
        plate = f"{memory}{age:02d} {letters}"
    else:
        index = bisect.bisect_right([d for d, _ in _PREFIX_PERIODS], registered) - 1
        prefix = _PREFIX_PERIODS[max(index, 0)][1]
        plate = f"{prefix}{rng.randint(1, 999)} {letters}"
    r = rng.random()
    if r < 0.86:
        return plate
    if r < 0.94:
        return plate.replace(" ", "")
    if r < 0.98:
        return plate.lower()
    return plate.lower().replace(" ", "")


def _vin(rng: random.Random, wmi: str, registered: date) -> str:
    vds = "".join(rng.choice(_VIN_CHARS) for _ in range(6))
    year = _VIN_YEAR[(registered.year - 2010) % 30]
    plant = rng.choice(_VIN_CHARS)
    return f"{wmi}{vds}{year}{plant}{rng.randrange(10**6):06d}"


def _anniversary(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return date(year, 2, 28)


def _mot_due(registered: date) -> date:
    today = EXPORT_TIME.date()
    first = _anniversary(registered, registered.year + 3)
    if first > today - timedelta(days=60):
        return first
    due = _anniversary(registered, today.year - 1)
    while due < today - timedelta(days=60):
        due = _anniversary(registered, due.year + 1)
    return due


# --------------------------------------------------------------------------------------------
# Customers and vehicles
# --------------------------------------------------------------------------------------------


def _person(rng: random.Random) -> tuple[str, str, str, str]:
    """(title, first name, surname, customer name)."""
    female = rng.random() < 0.48
    rare = rng.random() < 0.02
    if female:
        first = rng.choice(_FEMALE_FIRST_RARE if rare else _FEMALE_FIRST)
        title = rng.choices(("Mrs", "Ms", "Miss", "Dr", ""), (45, 25, 20, 4, 6))[0]
    else:
        first = rng.choice(_MALE_FIRST_RARE if rare else _MALE_FIRST)
        title = rng.choices(("Mr", "Dr", ""), (90, 4, 6))[0]
    surname = rng.choice(_SURNAMES_RARE) if rng.random() < 0.03 else rng.choice(_SURNAMES)
    name = f"{first} {surname}" if rng.random() < 0.95 else f"{first[0]} {surname}"
    return title, first, surname, name


def _company(rng: random.Random, town: str) -> str:
    surname = rng.choice(_SURNAMES)
    other = rng.choice(_SURNAMES)
    suffix = rng.choice(_COMPANY_SUFFIXES)
    pattern = rng.randrange(8)
    if pattern == 0:
        name = f"{surname} & Sons"
    elif pattern == 1:
        name = f"{surname} {rng.choice(_TRADES)}"
    elif pattern == 2:
        name, suffix = f"{surname}, {other} & Co", ""
    elif pattern == 3:
        name = f"{town} {rng.choice(_TRADES)}"
    elif pattern == 4:
        name, suffix = f"{surname} & {other}", "LLP"
    elif pattern == 5:
        name = f"{rng.choice(_BRAND_WORDS)} {rng.choice(_TRADES)}"
    elif pattern == 6:
        name = f"{rng.choice(_BRAND_WORDS)} Fleet Services"
    else:
        name = f"{surname} Motors"
    return f"{name} {suffix}".strip()


def _company_domain(name: str, rng: random.Random) -> str:
    words = re.sub(r"\b(Ltd|Limited|LLP|Co)\b", "", name).replace("&", " and ")
    return _ascii_slug(words) + rng.choice(_COMPANY_TLDS)


def _personal_email(rng: random.Random, first: str, surname: str) -> str:
    f, s = _ascii_slug(first), _ascii_slug(surname)
    pattern = rng.randrange(6)
    if pattern == 0:
        local = f"{f}.{s}"
    elif pattern == 1:
        local = f"{f}{s}{rng.randint(1, 99)}"
    elif pattern == 2:
        local = f"{f[0]}{s}"
    elif pattern == 3:
        local = f"{f}.{s}{rng.randint(60, 99)}"
    elif pattern == 4:
        local = f"{s}.{f}"
    else:
        local = f"{f}_{s}"
    if rng.random() < 0.05:
        local = local.title()  # "John.Smith@gmail.com": mixed case is still valid
    return f"{local}@{rng.choice(_PERSONAL_DOMAINS)}"


_GROUPS = ("Retail", "Trade", "Fleet", "Account")
_GROUP_WEIGHTS = (70, 14, 6, 10)
_COMPANY_SHARE = {"Retail": 0.03, "Trade": 0.85, "Fleet": 0.95, "Account": 0.6}
_ACCOUNT_SHARE = {"Retail": 0.02, "Trade": 0.7, "Fleet": 0.9, "Account": 1.0}
_VEHICLE_COUNT_WEIGHTS = {
    "Retail": (10, 70, 16, 4),
    "Trade": (10, 55, 25, 10),
    "Fleet": (5, 25, 35, 35),
    "Account": (10, 60, 20, 10),
}


@dataclass
class _Customer:
    cells: dict[str, str]
    first: str
    surname: str
    is_company: bool
    vehicles: list[dict[str, str]]


def _customer(seed: int, number: int, attempt: int = 0) -> _Customer:
    rng = random.Random(f"techman-sample:{seed}:{number}" + (f":{attempt}" if attempt else ""))
    group = rng.choices(_GROUPS, _GROUP_WEIGHTS)[0]
    town, county, nation, areas, low, high, area_code, _ = _pick_town(rng)
    is_company = rng.random() < _COMPANY_SHARE[group]
    if is_company:
        title, first, surname = "", "", ""
        name = _company(rng, town)
    else:
        title, first, surname, name = _person(rng)

    # Contact details.
    mobile = "" if rng.random() < (0.25 if is_company else 0.04) else _mobile(rng)
    landline = ""
    if rng.random() < (0.85 if is_company else 0.40):
        landline = _write_landline(rng, *_landline(rng, area_code))
    phone = _write_mobile(rng, mobile) if mobile else ""
    if is_company:
        email = ""
        if rng.random() >= 0.06:
            email = f"{rng.choice(_COMPANY_MAILBOXES)}@{_company_domain(name, rng)}"
    else:
        email = "" if rng.random() < 0.10 else _personal_email(rng, first, surname)

    # Billing address.
    address2 = address3 = ""
    if is_company and rng.random() < 0.6:
        unit = f"Unit {rng.randint(1, 40)}"
        estate = rng.choice(_ESTATES)
        if rng.random() < 0.5:
            address1 = f"{unit}, {estate}"
        else:
            address1, address2 = unit, estate
    else:
        house = rng.randint(1, 240)
        r = rng.random()
        if r < 0.08:
            address1 = f"Flat {rng.randint(1, 24)}, {house} {_street(rng)}"
        elif r < 0.14:
            address1, address2 = f"{rng.choice(_BUILDINGS)}", f"{house} {_street(rng)}"
        else:
            address1 = f"{house} {_street(rng)}"
        if rng.random() < 0.25:
            if address2:
                address3 = rng.choice(_LOCALITIES)
            else:
                address2 = rng.choice(_LOCALITIES)
    postcode = _postcode(rng, areas, low, high)
    r = rng.random()
    country = "United Kingdom" if r < 0.75 else "UK" if r < 0.85 else nation if r < 0.90 else ""
    county_cell = county if rng.random() < 0.85 else ""

    # Delivery address: mostly companies with a separate yard or site.
    delivery = ["", "", "", ""]
    if rng.random() < (0.25 if is_company else 0.03):
        d_town, d_areas, d_low, d_high = town, areas, low, high
        if rng.random() < 0.4:
            d_town, _, _, d_areas, d_low, d_high, _, _ = _pick_town(rng)
        if is_company:
            d1 = f"Unit {rng.randint(1, 60)}"
            d2 = rng.choice(_ESTATES)
        else:
            d1, d2 = f"{rng.randint(1, 240)} {_street(rng)}", ""
        delivery = [d1, d2, d_town, _postcode(rng, d_areas, d_low, d_high)]

    # Account flags, preferences, dates.
    account = rng.random() < _ACCOUNT_SHARE[group]
    vat_registered = is_company and rng.random() < 0.8
    vat_number = _vat_number(rng) if vat_registered and rng.random() < 0.9 else ""
    on_stop = rng.random() < 0.03
    reminders = rng.random() < 0.8
    notifications = rng.random() < 0.7
    preferences = ""
    if rng.random() < 0.55:
        preferences = json.dumps(
            {
                "sms": bool(mobile) and rng.random() < 0.7,
                "email": bool(email) and rng.random() < 0.6,
                "marketing": rng.random() < 0.15,
            }
        )
    created = _random_moment(rng, _EARLIEST_CREATED, EXPORT_TIME - timedelta(days=1))
    last_visit = ""
    if rng.random() < 0.88:
        # Most customers came in during the last two years; some have not been back for long.
        since = created
        if rng.random() < 0.75:
            since = max(created, EXPORT_TIME - timedelta(days=730))
        last_visit = _format_datetime(rng, _random_moment(rng, since, EXPORT_TIME))

    cells = {
        "CustomerNumber": str(number),
        "Title": title,
        "CustomerName": name,
        "Phone": phone,
        "PhoneLandline": landline,
        "Email": email,
        "Address1": address1,
        "Address2": address2,
        "Address3": address3,
        "Town": town,
        "County": county_cell,
        "Postcode": postcode,
        "Country": country,
        "DeliveryAddress1": delivery[0],
        "DeliveryAddress2": delivery[1],
        "DeliveryTown": delivery[2],
        "DeliveryPostcode": delivery[3],
        "CustomerGroupName": group,
        "AccountCustomer": _boolean(rng, account),
        "VATRegistered": _boolean(rng, vat_registered),
        "VATNumber": vat_number,
        "CustomerOnStop": _boolean(rng, on_stop),
        "VehicleRemindersEnabled": _boolean(rng, reminders),
        "NotificationsEnabled": _boolean(rng, notifications),
        "NotificationPreferences": preferences,
        "DateCreated": _format_datetime(rng, created),
        "LastVisit": last_visit,
    }
    count = rng.choices(range(4), _VEHICLE_COUNT_WEIGHTS[group])[0]
    van_share = 0.7 if group in ("Trade", "Fleet") else 0.05
    vehicles = [_vehicle(rng, van_share) for _ in range(count)]
    return _Customer(cells, first, surname, is_company, vehicles)


_DRAWS_FOR_DISTINCT_CONTACTS = 25


def _contacts(customer: _Customer) -> set[str]:
    """The customer's email and phones, as duplicate detection compares them."""
    found = set()
    email = customer.cells["Email"].strip().lower()
    if email:
        found.add(email)
    for column in ("Phone", "PhoneLandline"):
        try:
            number = phonenumbers.parse(customer.cells[column], "GB")
        except phonenumbers.NumberParseException:
            continue
        found.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return found


def _distinct_customer(seed: int, number: int, used: set[str]) -> _Customer:
    """Different people do not share an email or a phone number: draw the customer again
    (deterministically) while it would. Names may repeat, as they do."""
    for attempt in range(_DRAWS_FOR_DISTINCT_CONTACTS):
        customer = _customer(seed, number, attempt)
        contacts = _contacts(customer)
        if not contacts & used:
            break
    else:
        # The landline ranges of a small town run dry in very large files: go without one.
        customer.cells["PhoneLandline"] = ""
        contacts = _contacts(customer)
    used |= contacts
    return customer


def _vehicle(rng: random.Random, van_share: float) -> dict[str, str]:
    if rng.random() < van_share:
        make, wmi, model = rng.choice(_VAN_MAKES)
        yearly_miles = rng.gauss(14000, 4000)
    else:
        point = rng.random() * _VEHICLE_CUMULATIVE[-1]
        make, wmi, models, _ = _VEHICLES[bisect.bisect_right(_VEHICLE_CUMULATIVE, point)]
        model = rng.choice(models)[0]
        yearly_miles = rng.gauss(7500, 2500)
    if make == "Citroën" and rng.random() < 0.4:
        make = "Citroen"
    age_days = int(rng.triangular(30, 30 * 365, 6 * 365))
    registered = EXPORT_TIME.date() - timedelta(days=age_days)
    mileage = max(5, int(age_days / 365.25 * max(yearly_miles, 1500)))
    return {
        "VehicleRegistration": _plate(rng, registered),
        "VehicleMake": make,
        "VehicleModel": model,
        "VehicleVIN": _vin(rng, wmi, registered),
        "VehicleFirstRegistered": registered.strftime("%d/%m/%Y"),
        "VehicleMOTDue": "" if rng.random() < 0.05 else _mot_due(registered).strftime("%d/%m/%Y"),
        "VehicleMileage": "" if rng.random() < 0.03 else str(mileage),
    }


def _bad_email(rng: random.Random, customer: _Customer) -> str:
    if customer.is_company:
        local, spaced = "info", "info @"
        domain = _company_domain(customer.cells["CustomerName"], rng)
    else:
        first, surname = _ascii_slug(customer.first), _ascii_slug(customer.surname)
        local, spaced = f"{first}.{surname}", f"{first} {surname}@"
        domain = rng.choice(_PERSONAL_DOMAINS)
    pattern = rng.randrange(5)
    if pattern == 0:
        return f"{local}@"
    if pattern == 1:
        return f"{local}.{domain}"  # no at sign
    if pattern == 2:
        return f"{local}@@{domain}"
    if pattern == 3:
        return f"{spaced}{domain}"
    return f"@{domain}"


def _make_bad(rng: random.Random, customer: _Customer, kinds: Sequence[str]) -> None:
    kind = rng.choice(kinds)
    if kind == "Phone":
        customer.cells["Phone"] = rng.choice(_BAD_PHONES)
    elif kind == "PhoneLandline":
        customer.cells["PhoneLandline"] = rng.choice(_BAD_LANDLINES)
    else:
        customer.cells["Email"] = _bad_email(rng, customer)


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------


def write_techman_sample(
    path: Path,
    customers: int = 5500,
    *,
    seed: int = 20261122,
    bad_customers: int = 12,
    omit_columns: Sequence[str] = (),
    first_customer_number: int = 100001,
) -> SampleSummary:
    """Write a Techman customer export to `path` and describe what is in it.

    `customers` distinct customers numbered upwards from `first_customer_number`; each has 0-3
    vehicles and one row per vehicle (one row with empty vehicle cells when it has none).
    `bad_customers` of them, spread through the file, carry exactly one deliberate defect (a
    phone or landline that cannot be normalised, or an invalid email) in a column that is
    written. `omit_columns` leaves columns out of the header and the rows.
    """
    if customers < 0:
        raise ValueError("customers must not be negative")
    if not 0 <= bad_customers <= customers:
        raise ValueError(
            f"bad_customers must be between 0 and the number of customers ({customers}),"
            f" not {bad_customers}"
        )
    if first_customer_number < 1:
        raise ValueError("first_customer_number must be positive")
    unknown = sorted(set(omit_columns) - set(TECHMAN_COLUMNS))
    if unknown:
        raise ValueError(f"Unknown Techman columns to omit: {', '.join(unknown)}")
    columns = [c for c in TECHMAN_COLUMNS if c not in set(omit_columns)]
    # Weighted: a bad phone or email twice as often as a bad landline.
    defect_kinds = [
        c for c in ("Phone", "Phone", "PhoneLandline", "Email", "Email") if c in columns
    ]
    if bad_customers and not defect_kinds:
        raise ValueError("bad customers need a Phone, PhoneLandline or Email column")

    layout = random.Random(
        f"techman-layout:{seed}:{customers}:{bad_customers}:{first_customer_number}"
    )
    bad_positions: dict[int, None] = {}
    for k in range(bad_customers):
        low, high = k * customers // bad_customers, (k + 1) * customers // bad_customers
        bad_positions[layout.randrange(low, high)] = None
    multiline_position = layout.randrange(customers) if customers else -1

    empty_vehicle = dict.fromkeys(VEHICLE_COLUMNS, "")
    rows = vehicles = 0
    bad_numbers: list[str] = []
    contacts_used: set[str] = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for position in range(customers):
            number = first_customer_number + position
            customer = _distinct_customer(seed, number, contacts_used)
            if position == multiline_position:
                # A multi-line address cell, as Excel users type it with Alt+Enter.
                cells = customer.cells
                first_line = layout.choice(
                    ("Block B", "Rear Yard", "Building 4")
                    if customer.is_company
                    else ("Flat 2", "Flat 5", "Apartment 3")
                )
                cells["Address2"] = (
                    f"{first_line}\n{cells['Address2'] or layout.choice(_BUILDINGS)}"
                )
            if position in bad_positions:
                _make_bad(layout, customer, defect_kinds)
                bad_numbers.append(str(number))
            for vehicle in customer.vehicles or [empty_vehicle]:
                record = customer.cells | vehicle
                writer.writerow([record[c] for c in columns])
                rows += 1
            vehicles += len(customer.vehicles)
    return SampleSummary(
        customers=customers, rows=rows, vehicles=vehicles, bad_customers=tuple(bad_numbers)
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a sample Techman customer export.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=5500)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--bad-customers", type=int, default=12)
    parser.add_argument("--omit-column", action="append", default=[])
    parser.add_argument("--first-customer-number", type=int, default=100001)
    args = parser.parse_args(argv)
    summary = write_techman_sample(
        args.out,
        args.customers,
        seed=args.seed,
        bad_customers=args.bad_customers,
        omit_columns=args.omit_column,
        first_customer_number=args.first_customer_number,
    )
    print(summary)


if __name__ == "__main__":
    main()
