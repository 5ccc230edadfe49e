"""PATCH /v1/messaging-channels/{id}/: the seed's patch operations and the partial object give the same stored
changes (``channels.patch_fields``); only ``replace`` on the whitelist, values validated as the partial object's."""

from __future__ import annotations

import pytest

from parley.domain import channels
from parley.errors import BadRequest, Unprocessable
from parley.models.messaging_channels import ChannelPatch, ChannelPatchDocument


def ops(*triples):
    doc = ChannelPatchDocument.model_validate(
        {"data": {"type": "messaging-channels", "attributes": [{"op": "replace", "path": p, "value": v} for p, v in triples]}}
    )
    return doc.data.attributes


def test_operations_and_the_partial_object_agree():
    by_ops = channels.patch_fields(ops(("name", "N"), ("/label", None), ("/data/attributes/event-settings/enabled", True)), None)
    partial = ChannelPatch.model_validate({"name": "N", "label": None, "event-settings": {"enabled": True}})
    assert by_ops == channels.patch_fields(None, partial)
    assert by_ops == ({"name": "N", "event_settings": {"enabled": True}}, ["label"])


def test_only_members_sent_in_a_partial_object_change():
    assert channels.patch_fields(None, ChannelPatch.model_validate({"archived": True})) == ({"archived": True}, [])
    with pytest.raises(BadRequest) as err:
        channels.patch_fields(None, ChannelPatch.model_validate({"subscription-type": None}))
    assert err.value.pointer == "/data/attributes/subscription-type"


@pytest.mark.parametrize(
    ("triples", "error", "pointer"),
    [
        ((("floating", True),), Unprocessable, "/data/attributes/0/path"),
        ((("name", "ok"), ("individual-group-id", "g")), Unprocessable, "/data/attributes/1/path"),
        ((("name", 5),), BadRequest, "/data/attributes/0/value"),
        ((("event-settings/enabled", "yes"),), BadRequest, "/data/attributes/0/value"),
        ((("subscription-type", None),), BadRequest, "/data/attributes/0/value"),
        ((("name", "x"), ("archived", None)), BadRequest, "/data/attributes/1/value"),
    ],
)
def test_refused_operations_name_their_place(triples, error, pointer):
    with pytest.raises(error) as err:
        channels.patch_fields(ops(*triples), None)
    assert err.value.pointer == pointer


def test_an_operation_other_than_replace_is_refused_by_the_model():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ChannelPatchDocument.model_validate({"data": {"type": "messaging-channels", "attributes": [{"op": "remove", "path": "name"}]}})
