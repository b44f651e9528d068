"""The customer's own profile over the API: self-registration, KYC details (masked; revealed one at a time
to the customer), the identities a session can act as, and app preferences (the display mode: standard or
elder; `domain`), each change of which is recorded (`models.PreferenceChange`)."""
