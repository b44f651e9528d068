"""Domain-free helpers: money, ids, clock, errors, pagination. Imports nothing of atrium."""
