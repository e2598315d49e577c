"""Business rules, one module per domain. Every function takes a DB session and the acting user."""
