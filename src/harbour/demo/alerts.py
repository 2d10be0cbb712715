"""Fictional demo alerts: one published for downtown Kingston, one waiting for approval; the
demo organization reviews downtown Kingston's community reports."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from harbour.accounts.models import Organization
from harbour.alerts import services
from harbour.alerts.models import Alert, AlertPolicy, AlertStatus, Severity
from harbour.drugcheck.models import Substance


@transaction.atomic
def load() -> int:
    org = Organization.objects.filter(slug="demo-lighthouse").first()
    if org is None or Alert.objects.filter(organization=org).exists():
        return 0
    # the demo organization reviews the community reports of downtown Kingston
    AlertPolicy.objects.update_or_create(
        organization=org, defaults={"report_areas": " K7L K7K K7M K7P "}
    )
    substances = list(Substance.objects.filter(code__in=["fentanyl", "bromazolam"]))
    published = services.alert_draft(
        actor=None,
        organization=org,
        title_en="Down with bromazolam: long blackouts (demo)",
        title_fr="Down avec du bromazolam : pertes de conscience longues (démo)",
        body_en=(
            "Drug checking found fentanyl with bromazolam, a benzodiazepine, in purple down. "
            "Naloxone brings back breathing but not consciousness. Use less, don't use alone."
        ),
        body_fr=(
            "L’analyse a trouvé du fentanyl avec du bromazolam, une benzodiazépine, dans du down "
            "mauve. La naloxone rétablit la respiration mais pas la conscience. Consommez moins, "
            "ne consommez pas seul·e."
        ),
        appearance_en="Purple, chunky; sold in small folded papers.",
        appearance_fr="Mauve, en morceaux; vendu dans de petits papiers pliés.",
        areas=["K7L", "K7K"],
        area_description_en="Downtown Kingston (demo)",
        area_description_fr="Centre-ville de Kingston (démo)",
        valid_until=timezone.now() + timedelta(days=10),
        severity=Severity.SEVERE,
        substances=substances,
    )
    Alert.objects.filter(pk=published.pk).update(
        status=AlertStatus.PUBLISHED, published_at=timezone.now() - timedelta(hours=5)
    )
    pending = services.alert_draft(
        actor=None,
        organization=org,
        title_en="Blue pills sold as oxy (demo)",
        body_en="Pressed blue pills sold as oxycodone held a nitazene. Start with a small piece.",
        areas=["K7M"],
        area_description_en="West Kingston (demo)",
        valid_until=timezone.now() + timedelta(days=7),
    )
    Alert.objects.filter(pk=pending.pk).update(status=AlertStatus.PENDING)
    return 2
