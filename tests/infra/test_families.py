"""The API families are named once: the root template's nested applications (parley_local.families)."""

from __future__ import annotations

from helpers import ROOT
from parley_local import families, openapi


def test_the_families_are_the_nested_applications_of_the_root_template():
    assert families.applications() == {
        "CandidateApi": "candidate",
        "CrmApi": "crm",
        "AtsApi": "ats",
        "CourierAdminApi": "courier_admin",
        "CourierEmailApi": "courier_email",
        "CourierNotificationsApi": "courier_notifications",
        "CourierTextingApi": "courier_texting",
        "CourierMessagingApi": "courier_messaging",
        "CourierAutomationApi": "courier_automation",
        "CourierVoiceVideoApi": "courier_voice_video",
    }
    assert families.names() == (
        "candidate", "crm", "ats", "courier_admin", "courier_email", "courier_notifications", "courier_texting", "courier_messaging",
        "courier_automation", "courier_voice_video",
    )  # fmt: skip


def test_every_folder_with_endpoints_is_a_family_and_every_family_has_its_documents():
    with_endpoints = {p.parent.parent.name for p in (ROOT / "functions").glob("*/api/*.py")}
    assert with_endpoints == set(families.names()), "a functions/<family>/api/ folder needs a nested application in template.yaml"
    for family in families.names():
        title, description = families.openapi_info(family)
        assert openapi.family_schema(family)["info"] == {"title": title, "version": openapi.VERSION, "description": description}
        assert (ROOT / "docs" / "openapi" / f"{family}.json").exists()
