"""The pure decision path: feature state, rule language, lists, model and how they combine. No I/O."""
