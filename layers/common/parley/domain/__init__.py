"""Domain logic: what Parley does, independent of HTTP and of AWS."""
