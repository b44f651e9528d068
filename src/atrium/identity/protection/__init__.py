"""Protection of sign-in: lockout, rate limits, the session list with remote sign-out, the login history.

Invariants:

- Lockout (`lockout`): `max_failures` consecutive wrong passwords lock a customer for `lock_minutes`; the
  `permanent_after`-th temporary lock within `permanent_window_h` hours locks them until a staff member
  unlocks them with a stated reason. A success resets the failure count. While locked, every attempt is
  refused with `AccountLocked` (423) before the password is looked at — so the lock is no oracle for the
  right password.
- A username that does not exist goes through the very same state machine (`domain.after_failure`) on a
  *phantom* record keyed by the username's blind index, so "locked" answers exactly as often, and with the
  same times, for unknown usernames as for real ones: the lockout reveals no more about which usernames
  exist than the normal "wrong username or password" does.
- Rate limits (`ratelimit`): a sliding-window log in the database (works across processes, SQLite and
  PostgreSQL). A hit is allowed only while fewer than `limit` hits were allowed in the last `window_s`
  seconds, so no window of that length ever holds more than `limit` allowed hits (fixed windows would let
  twice the limit through around a window boundary). Refused hits are not recorded. Concurrent hits on
  one key are serialised by a row lock on the key (PostgreSQL) / the single writer (SQLite).
- Nothing here logs a username, an IP address or a user agent: only customer ids and counts.
"""
