# Notification emails, text messages and calls of the notification sender (security-info).
# Every message exists in en, de and fr with the same placeholders (a unit test checks it).
# $minutes is a number; every other placeholder is text.

verification-code-subject = Your MyAccount verification code
verification-code-body =
    Your verification code is { $code }.
    It expires in { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }. If you did not ask for it, ignore this message.

sign-in-code-subject = Your MyAccount sign-in code
sign-in-code-body =
    Your sign-in code is { $code }.
    It expires in { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }. If you are not signing in, change your password.

security-info-changed-subject = Your MyAccount security info changed
# $method_type is the method-type text; $method its name, number or address.
security-info-changed-body =
    { $change ->
        [method_added] A sign-in method was added to your account: { $method_type } ({ $method }).
        [method_removed] A sign-in method was removed from your account: { $method_type } ({ $method }).
        [default_changed] Your default sign-in method is now: { $method_type } ({ $method }).
       *[other] A sign-in method of your account changed: { $method_type } ({ $method }).
    }
    If this wasn’t you, review your security info and change your password.

method-type =
    { $type ->
        [authenticator_app] authenticator app
        [phone] phone
        [email] email address
        [security_key] security key
        [app_password] app password
        [recovery_codes] recovery codes
       *[other] { $type }
    }

password-reset-subject = Your MyAccount password was reset
# $methods: the method-proven texts, joined by commas.
password-reset-body =
    The password of your account was reset with “Forgot my password?”, proving: { $methods }.
    Every session was signed out and your app passwords were revoked.
    If this wasn’t you, contact your organization’s help desk at once.

method-proven =
    { $method ->
        [authenticator_app] authenticator app code
        [phone_sms] code by text message
        [phone_voice] code by phone call
        [email] code by email
        [security_key] security key
        [passkey] passkey
        [recovery_code] recovery code
        [app_password] app password
       *[other] { $method }
    }

unusual-sign-in-subject = Unusual sign-in to your MyAccount account
# $reasons: the risk-reason texts, joined by semicolons.
unusual-sign-in-body =
    There was an unusual sign-in to your account.
    When: { $time }
    Where: { $location } (IP address { $ip_address })
    Why it stands out: { $reasons }
    If this was you, you can ignore this message. If not, choose “This wasn’t me” for it in My sign-ins and change your password.

unknown-location = unknown place

risk-reason =
    { $reason ->
        [new_device] a device you have not used before
        [new_country] a country you have not signed in from before
        [impossible_travel] too far from your previous sign-in for the time between them
        [ip_failures_across_accounts] an address that failed to sign in to many accounts
       *[other] { $reason }
    }

# A template this sender does not know: its parameters follow the subject.
other-subject = MyAccount notification ({ $template })
