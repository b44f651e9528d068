"""Messages (M21): the in-app inbox and notifications through pluggable senders."""
