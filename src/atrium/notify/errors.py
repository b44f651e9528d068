from atrium.kit.errors import AtriumError, NotFound, ValidationFailed


class InvalidPhone(ValidationFailed):
    code = "invalid-phone"
    title = "That is not a mobile number we can send to"


class SmsDeliveryFailed(AtriumError):
    status = 502
    code = "sms-delivery-failed"
    title = "The text message could not be handed to the SMS gateway"


class PushDeliveryFailed(AtriumError):
    status = 502
    code = "push-delivery-failed"
    title = "The push notification could not be handed to the push service"


class PushSubscriptionGone(AtriumError):
    """The push service no longer knows the subscription (the browser unsubscribed or was reset)."""

    status = 410
    code = "push-subscription-gone"
    title = "The push subscription no longer exists"


class InvalidPushSubscription(ValidationFailed):
    code = "invalid-push-subscription"
    title = "That is not a push subscription we can send to"


class PushSubscriptionNotFound(NotFound):
    code = "push-subscription-not-found"
    title = "No such push subscription"
