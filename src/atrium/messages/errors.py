from atrium.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed


class MessageNotFound(NotFound):
    code = "message-not-found"
    title = "No such message"


class TemplateNotFound(NotFound):
    code = "template-not-found"
    title = "No such message template"


class NoticeNotFound(NotFound):
    code = "notice-not-found"
    title = "No such service notice"


class InvalidTemplate(ValidationFailed):
    code = "invalid-template"
    title = "The message template is not valid"


class InvalidNotice(ValidationFailed):
    code = "invalid-notice"
    title = "The service notice is not valid"


class InvalidLink(ValidationFailed):
    code = "invalid-link"
    title = "A message links to a path on this site only"


class InvalidPreferences(ValidationFailed):
    code = "invalid-preferences"
    title = "Those message settings are not possible"


class TemplateExists(Conflict):
    code = "template-exists"
    title = "A template with that key exists"


class StaleTemplate(Conflict):
    code = "template-changed"
    title = "Someone changed the template since you opened it"


class NotMessageManager(Forbidden):
    code = "not-message-manager"
    title = "Your role may not manage messages"
