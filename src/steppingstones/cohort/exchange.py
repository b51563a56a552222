"""Cohort import and export: the same columns both ways, so an export re-imports unchanged.

Context notes and dated circumstances stay out of the exchange file: free text may hold
identifiers, and the file is meant to leave the platform for analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from steppingstones.cohort import services
from steppingstones.cohort.models import Infant, Interview, Pregnancy, Woman
from steppingstones.cohort.tabular import CellError, Column, TableError, read_tables, validate
from steppingstones.core import audit
from steppingstones.core.models import Participant, Study
from steppingstones.core.progress import Progress, SilentProgress

WOMEN = (
    Column(
        "pseudonym",
        "text",
        required=True,
        max_length=20,
        description="Site code, W and a number, e.g. EL-W07",
    ),
    Column("site", "text", required=True, max_length=4, description="Site code, e.g. EL"),
    Column("recruited_on", "date", required=True, description="Date of recruitment"),
    Column(
        "recruitment_route",
        "choice",
        choices=tuple(Woman.Route.values),
        description="Who referred her to the study",
    ),
    Column("edd", "date", required=True, description="Estimated due date"),
    Column("gestation_at_recruitment", "gestation", description="Weeks+days, e.g. 12+3"),
    Column("parity", "int", minimum=0, maximum=20, description="Previous births"),
    Column("earlier_children", "int", minimum=0, maximum=20, description="Children born before"),
    Column(
        "earlier_children_removed",
        "int",
        minimum=0,
        maximum=20,
        description="Earlier children removed from her care",
    ),
    Column(
        "status",
        "choice",
        required=True,
        choices=tuple(Woman.Status.values),
        description="Taking part, withdrawn, lost to follow-up or completed",
    ),
    Column("birth_date", "date", description="Date of birth of the baby (or end of pregnancy)"),
    Column("gestation_at_birth", "gestation", description="Weeks+days at birth"),
    Column(
        "outcome",
        "choice",
        required=True,
        choices=tuple(Pregnancy.Outcome.values),
        description="Outcome of the pregnancy",
    ),
)
INFANTS = (
    Column(
        "pseudonym",
        "text",
        required=True,
        max_length=24,
        description="Mother's pseudonym, I and a number, e.g. EL-W07-I1",
    ),
    Column("mother", "text", required=True, max_length=20, description="Mother's pseudonym"),
    Column("birthweight_grams", "int", minimum=200, maximum=7000, description="Birthweight (g)"),
    Column("nas_scored", "bool", description="Scored for neonatal abstinence syndrome"),
    Column("nas_treated", "bool", description="Treated for neonatal abstinence syndrome"),
    Column(
        "neonatal_care",
        "choice",
        choices=tuple(Infant.NeonatalCare.values),
        description="Where the baby was cared for after birth",
    ),
    Column(
        "length_of_stay_days",
        "int",
        minimum=0,
        maximum=365,
        description="Days in hospital after birth",
    ),
)
INTERVIEWS = (
    Column("woman", "text", required=True, max_length=20, description="Woman's pseudonym"),
    Column("wave", "int", required=True, minimum=1, maximum=20, description="Wave number"),
    Column(
        "status",
        "choice",
        required=True,
        choices=tuple(Interview.Status.values),
        description="Booked, done, missed, declined, withdrawn or lost",
    ),
    Column("date", "date", required=True, description="Date booked or held"),
    Column("mode", "choice", choices=tuple(Interview.Mode.values), description="How it was held"),
    Column(
        "location_type",
        "choice",
        choices=tuple(Interview.Location.values),
        description="Kind of place (never an address)",
    ),
    Column("duration_minutes", "int", minimum=0, maximum=600, description="Length in minutes"),
    Column("reason", "text", max_length=200, description="Why missed, declined or lost"),
)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SHEETS: dict[str, Sequence[Column]] = {"women": WOMEN, "infants": INFANTS, "interviews": INTERVIEWS}


@dataclass(frozen=True)
class ImportPlan:
    women: list[dict[str, Any]]
    infants: list[dict[str, Any]]
    interviews: list[dict[str, Any]]

    def summary(self) -> str:
        return (
            f"{len(self.women)} women, {len(self.infants)} infants, "
            f"{len(self.interviews)} interviews"
        )


def export_records(study: Study, women_qs: Any) -> dict[str, list[dict[str, Any]]]:
    women, infants, interviews = [], [], []
    for woman in women_qs.select_related("participant__site", "pregnancy").prefetch_related(
        "interviews__wave", "pregnancy__infants"
    ):
        pregnancy = getattr(woman, "pregnancy", None)
        women.append(
            {
                "pseudonym": woman.pseudonym,
                "site": woman.participant.site.code,
                "recruited_on": woman.recruited_on,
                "recruitment_route": woman.recruitment_route,
                "edd": woman.edd,
                "gestation_at_recruitment": woman.gestation_at_recruitment_days,
                "parity": woman.parity,
                "earlier_children": woman.earlier_children,
                "earlier_children_removed": woman.earlier_children_removed,
                "status": woman.status,
                "birth_date": pregnancy.birth_date if pregnancy else None,
                "gestation_at_birth": pregnancy.gestation_at_birth_days if pregnancy else None,
                "outcome": pregnancy.outcome if pregnancy else Pregnancy.Outcome.ONGOING,
            }
        )
        for infant in pregnancy.infants.all() if pregnancy else []:
            infants.append(
                {
                    "pseudonym": infant.pseudonym,
                    "mother": woman.pseudonym,
                    "birthweight_grams": infant.birthweight_grams,
                    "nas_scored": infant.nas_scored,
                    "nas_treated": infant.nas_treated,
                    "neonatal_care": infant.neonatal_care,
                    "length_of_stay_days": infant.length_of_stay_days,
                }
            )
        for interview in woman.interviews.all():
            interviews.append(
                {
                    "woman": woman.pseudonym,
                    "wave": interview.wave.number,
                    "status": interview.status,
                    "date": interview.date,
                    "mode": interview.mode,
                    "location_type": interview.location_type,
                    "duration_minutes": interview.duration_minutes,
                    "reason": interview.reason,
                }
            )
    return {"women": women, "infants": infants, "interviews": interviews}


def plan_import(
    study: Study, data: bytes, filename: str, site_codes: set[str] | None = None
) -> ImportPlan:
    """Read and check a file against the study; raises TableError listing every fault.

    ``site_codes`` limits the sites rows may belong to (a site researcher's own sites).
    """
    tables = read_tables(data, filename)
    tables.pop("dictionary", None)  # the data dictionary our own export adds
    unknown = sorted(set(tables) - set(SHEETS))
    errors: list[CellError] = [
        CellError(name, 1, "", f"unknown sheet {name!r}: expected women, infants, interviews")
        for name in unknown
    ]
    checked: dict[str, list[dict[str, Any]]] = {}
    for name, columns in SHEETS.items():
        try:
            checked[name] = validate(name, tables.get(name, []), columns)
        except TableError as error:
            errors.extend(error.errors)
            checked[name] = []
    if errors:
        raise TableError(errors)
    errors.extend(_cross_check(study, checked, site_codes))
    if errors:
        raise TableError(errors)
    return ImportPlan(checked["women"], checked["infants"], checked["interviews"])


def _cross_check(
    study: Study, sheets: Mapping[str, list[dict[str, Any]]], site_codes: set[str] | None
) -> list[CellError]:
    errors = []
    sites = {
        site.code: site
        for site in study.sites.all()
        if site_codes is None or site.code in site_codes
    }
    today = timezone.localdate()
    taken = set(study.participants.values_list("pseudonym", flat=True))
    waves = {wave.number for wave in services.ensure_waves(study)}
    seen: set[str] = set()
    for row_number, row in enumerate(sheets["women"], start=2):

        def fault(column: str, message: str, row_number: int = row_number) -> None:
            errors.append(CellError("women", row_number, column, message))

        pseudonym = row["pseudonym"]
        if row["site"] not in sites:
            # Checked first, and alone: nothing is said about sites the user cannot see.
            fault("site", f"{row['site']!r} is not one of your sites in this study")
            continue
        if not pseudonym.startswith(f"{row['site']}-W"):
            fault("pseudonym", f"{pseudonym!r} does not start with {row['site']}-W")
        if pseudonym in taken:
            fault("pseudonym", f"{pseudonym!r} is already in this study")
        if pseudonym in seen:
            fault("pseudonym", f"{pseudonym!r} appears twice")
        seen.add(pseudonym)
        if row["recruited_on"] > today:
            fault("recruited_on", "recruitment is in the future")
        if row["birth_date"] and row["birth_date"] < row["recruited_on"]:
            fault("birth_date", "the birth is before recruitment in pregnancy")
        if row["birth_date"] and row["birth_date"] > today:
            fault("birth_date", "the birth is in the future")
        if bool(row["birth_date"]) != (row["outcome"] != Pregnancy.Outcome.ONGOING):
            fault("outcome", "an outcome other than ongoing needs a birth date, and the reverse")
    mothers = {row["pseudonym"]: row for row in sheets["women"]}
    infants_seen: set[str] = set()
    for row_number, row in enumerate(sheets["infants"], start=2):
        mother = mothers.get(row["mother"])
        if mother is None:
            errors.append(
                CellError(
                    "infants", row_number, "mother", f"{row['mother']!r} is not in the women sheet"
                )
            )
        elif not mother["birth_date"]:
            errors.append(
                CellError("infants", row_number, "mother", f"{row['mother']} has no birth date")
            )
        if not row["pseudonym"].startswith(f"{row['mother']}-I"):
            errors.append(
                CellError(
                    "infants",
                    row_number,
                    "pseudonym",
                    f"{row['pseudonym']!r} does not start with {row['mother']}-I",
                )
            )
        if row["pseudonym"] in infants_seen:
            errors.append(CellError("infants", row_number, "pseudonym", "appears twice"))
        infants_seen.add(row["pseudonym"])
    pairs: set[tuple[str, int]] = set()
    for row_number, row in enumerate(sheets["interviews"], start=2):
        if row["woman"] not in mothers:
            errors.append(
                CellError(
                    "interviews", row_number, "woman", f"{row['woman']!r} is not in the women sheet"
                )
            )
        if row["wave"] not in waves:
            errors.append(
                CellError("interviews", row_number, "wave", f"this study has no wave {row['wave']}")
            )
        if (row["woman"], row["wave"]) in pairs:
            errors.append(
                CellError(
                    "interviews",
                    row_number,
                    "wave",
                    f"{row['woman']} already has a wave {row['wave']} interview",
                )
            )
        pairs.add((row["woman"], row["wave"]))
        if row["status"] == Interview.Status.DONE and row["date"] > today:
            errors.append(
                CellError(
                    "interviews", row_number, "date", "a done interview cannot be in the future"
                )
            )
    return errors


@transaction.atomic
def apply_import(study: Study, plan: ImportPlan, progress: Progress | None = None) -> str:
    progress = progress or SilentProgress()
    progress.start(len(plan.women) + len(plan.infants) + len(plan.interviews), "Importing")
    sites = {site.code: site for site in study.sites.all()}
    waves = {wave.number: wave for wave in services.ensure_waves(study)}
    women: dict[str, Woman] = {}
    for row in plan.women:
        participant = Participant.objects.create(
            study=study,
            site=sites[row["site"]],
            kind=Participant.Kind.WOMAN,
            pseudonym=row["pseudonym"],
        )
        woman = Woman.objects.create(
            participant=participant,
            recruited_on=row["recruited_on"],
            recruitment_route=row["recruitment_route"] or "",
            edd=row["edd"],
            gestation_at_recruitment_days=row["gestation_at_recruitment"],
            parity=row["parity"],
            earlier_children=row["earlier_children"],
            earlier_children_removed=row["earlier_children_removed"],
            status=row["status"],
        )
        Pregnancy.objects.create(
            woman=woman,
            birth_date=row["birth_date"],
            gestation_at_birth_days=row["gestation_at_birth"],
            outcome=row["outcome"],
        )
        women[row["pseudonym"]] = woman
        progress.advance()
    for row in plan.infants:
        Infant.objects.create(
            pregnancy=women[row["mother"]].pregnancy,
            pseudonym=row["pseudonym"],
            birthweight_grams=row["birthweight_grams"],
            nas_scored=bool(row["nas_scored"]),
            nas_treated=bool(row["nas_treated"]),
            neonatal_care=row["neonatal_care"] or Infant.NeonatalCare.NONE,
            length_of_stay_days=row["length_of_stay_days"],
        )
        progress.advance()
    for row in plan.interviews:
        Interview.objects.create(
            woman=women[row["woman"]],
            wave=waves[row["wave"]],
            status=row["status"],
            date=row["date"],
            mode=row["mode"] or Interview.Mode.IN_PERSON,
            location_type=row["location_type"] or "",
            duration_minutes=row["duration_minutes"],
            reason=row["reason"] or "",
        )
        progress.advance()
    progress.finish()
    audit.record("cohort.import", study=study, changes={"imported": plan.summary()})
    return plan.summary()
