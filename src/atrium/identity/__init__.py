"""Who is who: customers, staff users and their sign-in sessions.

Invariants: passwords are stored only as argon2id hashes; session tokens are stored only as SHA-256
digests (a database leak does not leak live sessions); a session belongs to exactly one subject.
This is the interim password login of the core issue; the identity issue extends it (OIDC, MFA, devices).
"""
