"""Local fakes of third-party HTTP APIs (real servers on 127.0.0.1, recording what they were sent)."""
