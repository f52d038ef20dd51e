"""Real-time delivery of domain events: the retained event log, channels and who may see what."""
