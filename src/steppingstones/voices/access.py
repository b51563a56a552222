"""Which voices sources a member may open: the one place the area applies the study's policy.

- Site-limited members see only their sites' sources.
- Only members who may see raw text ("voices:raw") see sources still under de-identification
  review, and audio or video recordings (a voice or a face cannot be de-identified); everyone
  else sees the de-identified text of ready sources, and drawings once reviewed.
- Analyses (coding, retrieval, the framework, agreement) use ready sources only.
"""

from __future__ import annotations

from django.db.models import QuerySet

from steppingstones.core.policy import Access
from steppingstones.voices.models import Source

RECORDINGS = (Source.Media.AUDIO, Source.Media.VIDEO)


def visible_sources(access: Access, *, analysable: bool = False) -> QuerySet[Source]:
    sources = Source.objects.filter(study=access.study)
    if access.site_ids is not None:
        sources = sources.filter(site_id__in=access.site_ids)
    if not access.can("voices:raw"):
        sources = sources.filter(status=Source.Status.READY).exclude(media__in=RECORDINGS)
    elif analysable:
        sources = sources.filter(status=Source.Status.READY)
    return sources
