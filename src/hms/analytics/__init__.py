"""Analytics: aggregate figures over a period, computed by the database from stored records."""
