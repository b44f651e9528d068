"""The service catalogue (M1): what each business line offers, to whom, where and when.

- `domain`: the audience-rule language, definition and window validation, visibility, maker-checker (pure).
- `service`: what a viewer sees (`viewing`, cached per catalogue revision in `catalogue`), maker-checker
  management (`proposals`), services declared in TOML files (`sync`; the built-in lines in `definitions/`,
  more through `settings.catalog.dirs`), and "who would see this" (`preview`).
- `ranking`: the seam a recommender plugs into for the home's quick row.

Invariants: a viewer is shown a service only if it is switched on, inside its window, in the viewer's channel,
for the viewer's identity kind and role, and selected by its audience rule — every list (all services,
search, quick row, frequently used, tabs) is a subset of that. Every change to a service bumps its version and
appends a history row naming who proposed and who approved it; a console change needs two different staff
members and applies only to the version it was written against.
"""
