"""`atrium risk benchmark`: the handbook's transactions replayed through the real decision path.

Invariants:
- Every transaction goes through `domain.engine.Engine.decide`, in time order, with the same feature
  state, lists, rules and model code the service uses; its score is the one the engine gave at decision
  time.
- Labels reach the feature state and the training sets only after the label delay (7 days); a fold's
  model is trained at the start of its test week from the logged vectors of its training week.
- `TX_FRAUD_SCENARIO` is never read; the metrics are the book's (see `metrics`), so figures compare side
  by side with its published ones.
- Heavy libraries (numpy, lightgbm, scikit-learn) are imported by these modules only, which the CLI
  imports when the command runs.
"""
