"""Pydantic v2 models: the shared domain records and each API family's request/response shapes."""
