from atrium.kit.errors import AtriumError, ValidationFailed


class InvalidPhone(ValidationFailed):
    code = "invalid-phone"
    title = "That is not a mobile number we can send to"


class SmsDeliveryFailed(AtriumError):
    status = 502
    code = "sms-delivery-failed"
    title = "The text message could not be handed to the SMS gateway"
