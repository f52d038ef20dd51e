"""Who may reach which patient's records, and emergency ("break the glass") access.

`scoping` is the one place that says whose records an actor reaches; every domain's queries and
every door (REST, GraphQL, WebSocket, FHIR) go through it, so a new rule is written once.
"""
