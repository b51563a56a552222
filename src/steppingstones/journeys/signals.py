"""Keeping stored timeline positions true when the cohort record they are measured from changes.

An event's ``timeline_days`` counts from the birth, or from the due date while the baby is
unborn; recording or correcting the birth (or the due date) moves every event of hers.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from steppingstones.cohort.models import Pregnancy, Woman
from steppingstones.journeys.events import refresh_positions


@receiver(post_save, sender=Pregnancy, dispatch_uid="journeys-pregnancy-positions")
def _pregnancy_saved(sender: type[Pregnancy], instance: Pregnancy, **kwargs: Any) -> None:
    refresh_positions(instance.woman)


@receiver(post_save, sender=Woman, dispatch_uid="journeys-woman-positions")
def _woman_saved(sender: type[Woman], instance: Woman, **kwargs: Any) -> None:
    if not kwargs.get("created"):
        refresh_positions(instance)
