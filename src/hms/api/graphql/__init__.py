"""GraphQL at /api/v1/graphql: a door over the same services as REST."""
