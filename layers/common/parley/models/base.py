"""The base of every parley model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and serializer are built on first use, not at class creation.

    A function imports every model of the modules it uses but validates only a few of them: deferring
    the build keeps the rest out of its cold start (``defer_build`` is inherited, and merged with a
    subclass's own ``model_config``)."""

    model_config = ConfigDict(defer_build=True)
