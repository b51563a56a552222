"""The demo study's timing rules, reference pathways and a synthetic routine-data event log.

Runs after the demo journeys. The English pre-birth conference deadlines are local rules, so
the demo gives East London the "10 weeks before the due date" rule and Huddersfield the
"34 weeks" one. The event log is SYNTHETIC (``synthetic.generate``: ``SYN-`` cases at
"Synthetic site" places) and stored with ``is_synthetic`` set. Nothing is added twice.
"""

from __future__ import annotations

from steppingstones.core.demo import DemoStudy
from steppingstones.core.demo_load import demo_part
from steppingstones.core.models import Study
from steppingstones.core.progress import Progress

from . import synthetic
from .jobs import store_log
from .models import EventLog, TimingRule
from .rules import seed_pathways, seed_rules

SYNTHETIC_LOG_NAME = "Synthetic routine data: national perinatal pathway (SYNTHETIC)"
SYNTHETIC_CASES = 3000
SYNTHETIC_SEED = 2024
LOCAL_RULE_SITES = {
    "Pre-birth conference at least 10 weeks before the due date (local rule)": "EL",
    "Pre-birth conference by 34 weeks (local rule)": "HD",
}


@demo_part("journeys-rules")
def load_rules(study: Study, plan: DemoStudy, progress: Progress) -> None:
    progress.start(3, "Demo timing rules and pathways")
    seed_rules(study)
    for name, code in LOCAL_RULE_SITES.items():
        site = study.sites.filter(code=code).first()
        if site is not None:
            TimingRule.objects.filter(study=study, name=name, site=None).update(site=site)
    progress.advance()
    seed_pathways(study)
    progress.advance()
    if not EventLog.objects.filter(study=study, name=SYNTHETIC_LOG_NAME).exists():
        table = synthetic.generate(SYNTHETIC_CASES, seed=SYNTHETIC_SEED)
        store_log(
            study,
            table,
            name=SYNTHETIC_LOG_NAME,
            original_name="synthetic-perinatal-pathways.parquet",
            source_format="parquet",
            is_synthetic=True,
        )
    progress.advance()
