"""Every parley model builds its validator on first use, not when its module is imported (cold starts)."""

from __future__ import annotations

import importlib
import pkgutil

from pydantic import BaseModel

import parley.models
from parley.models.base import Model


def _models() -> list[type[BaseModel]]:
    found = []
    for info in pkgutil.iter_modules(parley.models.__path__):
        module = importlib.import_module(f"parley.models.{info.name}")
        found += [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == module.__name__]
    return found


def test_every_model_defers_its_build() -> None:
    models = _models()
    assert len(models) > 50
    for model in models:
        assert issubclass(model, Model), f"{model.__qualname__} should derive from parley.models.base.Model"
        assert model.model_config.get("defer_build") is True, model.__qualname__


def test_deferred_models_validate_and_document() -> None:
    from parley.models.candidate import SendEmailRequest

    body = SendEmailRequest.model_validate({"toEmail": "a@example.com", "subject": "Hello", "emailContent": "<p>x</p>"})
    assert body.toEmail == "a@example.com"
    assert "toEmail" in SendEmailRequest.model_json_schema()["properties"]
