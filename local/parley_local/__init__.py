"""Parley's local stack: the SAM templates served on 127.0.0.1 against an embedded moto server.

Nothing here is deployed. It reads the same templates ``sam deploy`` reads, creates the declared
resources in the emulator, and serves exactly the declared routes by running the declared handlers.
"""
