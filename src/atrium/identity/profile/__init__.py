"""The customer's own profile over the API: self-registration, KYC details (masked; revealed one at a time
to the customer), and the identities a session can act as."""
