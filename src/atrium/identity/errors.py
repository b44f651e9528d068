from atrium.kit.errors import Conflict, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "invalid-credentials"
    title = "Wrong username or password"


class SessionExpired(Unauthenticated):
    code = "session-expired"
    title = "The session has ended; sign in again"


class UsernameTaken(Conflict):
    code = "username-taken"
    title = "That username is taken"
