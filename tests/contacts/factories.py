"""Factories of the contacts models; `FACTORIES` feeds the contract suite (tests/factories.py).

Contact has four workflows, so its state traits are prefixed:
`validation_queued`, `brevo_errored`, `hubspot_completed`, `webhook_stuck`…
"""
from __future__ import annotations

import factory
from django.utils import timezone

from contacts.models import Contact, ContactSource, SocialLink, Suppression
from tests.pages.factories import DomainFactory, PageFactory, _states

TRAIT_PREFIXES = {"validation": "contact_validation", "brevo": "brevo_sync", "hubspot": "hubspot_sync",
                  "webhook": "webhook_sync"}


def _all_states() -> dict:
    traits = {}
    for short, workflow in TRAIT_PREFIXES.items():
        for state, trait in _states(workflow).items():
            traits[f"{short}_{state}"] = trait
    return traits


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    domain = factory.SubFactory(DomainFactory)
    kind = "email"
    value = factory.LazyAttributeSequence(lambda o, n: f"person{n}@{o.domain.domain}")
    normalized = factory.LazyAttribute(lambda o: o.value.lower())
    on_domain = True
    confidence = 0.95
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)

    Params = type("Params", (), {
        **_all_states(),
        "phone": factory.Trait(kind="phone", value=factory.Sequence(lambda n: f"+4930{1000000 + n}"),
                               normalized=factory.LazyAttribute(lambda o: o.value), on_domain=False,
                               number_type="fixed_line"),
        "fax": factory.Trait(kind="fax", value=factory.Sequence(lambda n: f"+4930{2000000 + n}"),
                             normalized=factory.LazyAttribute(lambda o: o.value), on_domain=False,
                             number_type="fixed_line"),
    })


class ContactSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactSource

    contact = factory.SubFactory(ContactFactory)
    page = factory.SubFactory(PageFactory, domain=factory.SelfAttribute("..contact.domain"))
    method = "mailto"
    value_as_written = factory.LazyAttribute(lambda o: o.contact.value)
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    kind = "email"
    value = factory.Sequence(lambda n: f"blocked{n}@example.com")
    reason = "asked not to be contacted"


class SocialLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialLink

    domain = factory.SubFactory(DomainFactory)
    network = "facebook"
    url = factory.Sequence(lambda n: f"https://facebook.com/shop{n}")


FACTORIES = {"contacts.Contact": ContactFactory}
