"""Parley's shared code: models, domain logic and the data-access layer.

Shipped to every function as the ``CommonLayer``. Only ``parley.dal`` and ``parley.providers``
talk to AWS (boto3); everything above them is plain Python.
"""
