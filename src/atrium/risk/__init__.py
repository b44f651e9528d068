"""Real-time anti-fraud (M17): every payment, transfer, card authorisation, sign-in and device change gets a
risk decision — allow, challenge, review or deny — before it commits.

Invariants:
- One decision per subject (a transfer, a card authorisation, a sign-in): asking again for the same
  subject returns the first decision, so a retried payment is neither decided twice nor counted twice in
  the velocity features.
- The decision path is the same code everywhere: the app's payments, the decision API and the benchmark
  replay all call `domain.engine.Engine.decide` (features → lists → rules → model → combine).
- Rules and lists act only once published by a second person; shadow rules and the challenger model are
  evaluated and recorded, never acted on.
- A label (confirmed fraud or genuine) is used only after it arrived: features and training sets never see
  a label before its `arrived_at`.
- The decision log is the feature state's source of truth: the in-memory state is rebuilt from it after a
  restart.
- Nothing here holds personal data in clear: entity keys for IPs, devices and payees are keyed hashes.
"""
