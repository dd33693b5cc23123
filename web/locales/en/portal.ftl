# The portal's words. Every language has every message with the same placeholders
# (gateway/src/i18n.rs tests it).

## The shell (index.html, app.js)
app-name = My Account
page-title = { $page } - My Account
skip-link = Skip to main content
sign-out = Sign out
nav-label = My Account
nav-overview = Overview
nav-security-info = Security info
nav-password = Password
nav-devices = Devices
nav-sessions = Sessions
nav-organizations = Organizations
nav-privacy = Privacy
nav-sign-ins = My sign-ins
nav-language = Language and region
footer-places = Sign-in and session places:
loading = Loading…
not-found-title = Page not found
not-found-text = There is no such page.
not-found-link = Go to the overview
signed-out = You have signed out.
network-error-title = Network error
network-error-detail = The server could not be reached. Check your connection and try again.
step-up-cancelled = Cancelled: this change needs you to verify your identity first.

## Why a session ended
ended-default = Your session has ended. Sign in again to continue.
ended-signed-out = You were signed out.
ended-revoked-by-user = You were signed out because this session was ended from your sessions page.
ended-other-sessions-revoked = You were signed out because you chose to sign out of your other sessions.
ended-signed-out-everywhere = You were signed out because you chose to sign out everywhere.
ended-password-changed = You were signed out because your password was changed.
ended-password-reset = You were signed out because your password was reset.
ended-device-disabled = You were signed out because this device was disabled.
ended-reported-not-me = You were signed out because a sign-in was reported as not yours. You will choose a new password after signing in.
ended-left-organization = You were signed out because you left the organization this session was in.
ended-removed-from-organization = You were signed out because you were removed from the organization this session was in.
ended-account-disabled = You were signed out because your account was disabled.
ended-account-deleted = You were signed out because your account was deleted.
expired-idle-timeout = You were signed out because you were inactive for a while. Sign in again to continue.
expired-max-lifetime = You were signed out because your session reached its maximum length. Sign in again to continue.

## Shared pieces
error-not-loaded = This could not be loaded.
error-generic = Something went wrong.
try-again = Try again
form-correct-fields = Please correct the fields marked below.
unavailable-text = This information is temporarily unavailable. Try again in a moment.
unknown-device = Unknown device
browser-on = { $browser } on { $os }
review-confirmed-me = You confirmed this was you
review-reported-not-me = You reported this was not you
none-yet = None yet
save = Save
cancel = Cancel
nothing-changed = Nothing changed.

## Overview
overview-title = Overview
overview-profile = Profile
overview-edit-profile = Edit profile
overview-profile-saved = Your profile was saved.
overview-security-info = Security info
overview-methods = Sign-in methods
overview-default-method = Default method
overview-default-method-none = None
overview-mfa = Multi-factor authentication
overview-mfa-set-up = Set up
overview-mfa-not-set-up = Not set up
overview-update-security-info = Update security info
overview-password = Password
overview-password-text = Change your password, and sign out of your other sessions if someone else may know it.
overview-change-password = Change password
overview-devices = Devices
overview-devices-count = Devices
overview-latest-activity = Latest activity
overview-manage-devices = Manage devices
overview-organizations = Organizations
overview-home-organization = Home organization
overview-unknown = Unknown
overview-guest-of = Guest of
overview-guest-count = { $count ->
    [one] { $count } organization
   *[other] { $count } organizations
}
overview-pending-invitations = Pending invitations
overview-see-organizations = See organizations
overview-privacy = Privacy
overview-privacy-text = See what each organization keeps about you and for how long, and download your data.
overview-manage-privacy = Manage privacy
overview-recent-sign-ins = Recent sign-ins
overview-sign-in-successful = Successful
overview-sign-in-failed = Failed
overview-no-sign-ins = No sign-ins yet.
overview-review-sign-ins = Review my sign-ins
overview-language = Language and region
overview-language-text = Choose the language of My Account, how dates and times are written and your time zone.
overview-change-language = Change language and region

## Profile fields (the profile card and the activity list)
profile-field-display-name = Name
profile-field-given-name = First name
profile-field-surname = Last name
profile-field-user-principal-name = User name
profile-field-mail = Email
profile-field-job-title = Job title
profile-field-department = Department
profile-field-office-location = Office
profile-field-mobile-phone = Mobile phone
profile-field-business-phone = Business phone
profile-field-preferred-language = Display language
profile-field-regional-format = Regional format
profile-field-time-zone = Time zone
profile-hint-phone = With the country code, for example +1 425 555 0100.

## Language and region
language-title = Language and region
language-intro = Choose the language of My Account, how dates, times and numbers are written, and the time zone they are shown in. Emails and messages from My Account use the same language.
language-display = Display language
language-display-hint = The language of every page and message.
language-browser-default = As my browser prefers
language-region = Regional format
language-region-hint = How dates, times and numbers are written.
language-region-same = Same as the display language
language-zone = Time zone
language-zone-hint = Dates and times are shown in this time zone.
language-zone-device = This device's time zone ({ $zone })
language-preview = Dates and times will look like this: { $example }
language-saved = Your language and region were saved.

## Account activity
activity-profile-updated = Profile updated: { $fields }
activity-password-changed = Password changed
activity-password-reset = Password reset with "Forgot my password?"; every session was signed out
activity-session-revoked = Session ended
activity-method-added = Sign-in method added
activity-method-removed = Sign-in method removed
activity-default-changed = Default sign-in method changed
activity-device-registered = Device registered
activity-device-renamed = Device renamed
activity-device-deleted = Device deleted
activity-device-disabled = Device disabled
activity-device-enabled = Device enabled
activity-recovery-key-added = Recovery key added
activity-recovery-key-viewed = Recovery key viewed
activity-recovery-key-view-denied = Recovery key view refused
activity-member-joined = Joined an organization
activity-member-left = Left an organization
activity-member-removed = Removed from an organization
activity-invitation-created = Invited to an organization
activity-invitation-declined = Invitation declined
activity-flagged = Reported a sign-in as not me; every session was signed out
activity-data-exported = Data downloaded
activity-account-created = Account created
activity-account-disabled = Account disabled
activity-account-enabled = Account enabled
activity-terms-accepted = Accepted the terms of use of { $organization } (version { $version })

## Password
password-title = Password
password-change = Change password
password-current = Current password
password-new = New password
password-new-hint = A long passphrase of several words is strong and easy to remember.
password-confirm = Confirm new password
password-end-other-sessions = Sign out of all other sessions (recommended if someone else may know your password)
password-mismatch = The new passwords do not match.
password-mismatch-field = Type the same new password twice.
password-changed = Your password has been changed.
password-changed-sessions-ended = { $count ->
    [one] Your password has been changed. { $count } other session was signed out.
   *[other] Your password has been changed. { $count } other sessions were signed out.
}

## Sessions
sessions-title = Sessions
sessions-this-session = This session
sessions-ip-address = IP address
sessions-location = Location
sessions-location-unknown = Unknown
sessions-signed-in = Signed in
sessions-last-active = Last active
sessions-methods = Sign-in methods
sessions-sign-out-one-title = Sign out this session?
sessions-sign-out-one-message = { $device } will be signed out.
sessions-signed-out-one = The session was signed out.
sessions-sign-out-device = Sign out { $device }
sessions-where = Where you are signed in
sessions-none = No active sessions.
sessions-everywhere-else = Sign out everywhere else
sessions-everywhere-else-title = Sign out everywhere else?
sessions-everywhere-else-message = Every other session ends. This one stays signed in.
sessions-others-signed-out = { $count ->
    [one] { $count } other session was signed out.
   *[other] { $count } other sessions were signed out.
}
sessions-everywhere = Sign out everywhere
sessions-everywhere-title = Sign out everywhere?
sessions-everywhere-message = Every session ends, this one too. You will need to sign in again.
sessions-signed-out-everywhere = You were signed out everywhere.

## Privacy
privacy-title = Privacy
privacy-service-identity = Account and sign-in
privacy-service-organizations = Organizations
privacy-service-devices = Devices
privacy-service-security-info = Security info
privacy-service-audit = Sign-in and activity logs
privacy-home = Home
privacy-guest = Guest
privacy-statement = Privacy statement
privacy-read-statement = Read the privacy statement
privacy-not-provided = Not provided
privacy-contact = Privacy contact
privacy-sign-ins-kept-for = Sign-ins kept for
privacy-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
privacy-what-is-kept = What is kept about you
privacy-download-my-data = Download my data
privacy-downloaded = Your data was downloaded.
privacy-download-title = Download your data
privacy-download-text = One JSON file with everything My Account keeps about you: profile, sessions, security info (no secrets), devices (no keys), organizations, sign-ins and activity.
privacy-confirm-name = Type your user name to confirm
privacy-confirm-name-detail = Type your user name to confirm.
privacy-required = Required.
privacy-delete-my-account = Delete my account
privacy-delete-confirm-title = Delete your account?
privacy-delete-confirm-message = Your account and everything My Account keeps about you will be erased. This cannot be undone.
privacy-deleted = Your account has been deleted.
privacy-delete-title = Delete your account
privacy-delete-text = Deleting your account signs you out everywhere and erases your data in every service.
privacy-delete-not-allowed = Your organization does not let you delete your own account.
privacy-retention-title = How long data is kept
privacy-retention-sign-ins = Sign-ins
privacy-retention-activity = Account activity
privacy-retention-after-deletion = After your account is deleted
privacy-terms-title = Terms of use
privacy-terms-text = The terms of use of your organizations, the version in force and whether you accepted it.
privacy-terms-none = None of your organizations asks you to accept terms of use.
privacy-terms-document = Terms
privacy-terms-read = Read the terms of use of { $organization }
privacy-terms-version = Version
privacy-terms-accepted-badge = Accepted
privacy-terms-accepted-on = Accepted on { $date }
privacy-terms-new-version = A new version is available
privacy-terms-earlier-version = You accepted version { $version } on { $date }.
privacy-terms-accept = Accept
privacy-terms-accept-label = Accept the terms of use of { $organization }, version { $version }
privacy-terms-accepted = You accepted the terms of use of { $organization } (version { $version }).

## Organizations
confirm = Confirm
yes = Yes
no = No
organizations-title = Organizations
organizations-switched = You are now signed in to { $organization }.
organizations-switch-to = Switch to { $organization }
organizations-signed-in-here = Signed in here
organizations-domains = Domains
organizations-joined = Joined
organizations-invited-by = Invited by
organizations-technical-contact = Technical contact
organizations-mfa-required = Requires a second sign-in method
organizations-leave = Leave organization
organizations-leave-named = Leave { $organization }
organizations-leave-title = Leave { $organization }?
organizations-leave-message = You will lose access to its apps and resources. To come back, you need a new invitation.
organizations-left = You left { $organization }.
organizations-current-home = This session is signed in to { $organization }, your home organization.
organizations-current-guest = This session is signed in to { $organization } as a guest.
organizations-current-none = This session is not signed in to any organization listed here.
organizations-none = You do not belong to any organization.
organizations-invitations = Invitations
organizations-invited = Invited
organizations-accept = Accept
organizations-accept-named = Accept the invitation from { $organization }
organizations-joined-named = You joined { $organization }.
organizations-decline = Decline
organizations-decline-named = Decline the invitation from { $organization }
organizations-decline-title = Decline the invitation from { $organization }?
organizations-decline-message = The organization will be told you declined.
organizations-declined = Invitation declined.
organizations-no-invitations = No invitations are waiting for you.

## Devices
devices-title = Devices
devices-type-phone = Phone
devices-type-tablet = Tablet
devices-type-laptop = Laptop
devices-type-desktop = Desktop
devices-type-other = Device
devices-type-other-choice = Other
devices-volume-operating-system = Operating system drive
devices-volume-fixed-data = Fixed data drive
devices-volume-removable-data = Removable drive
devices-volume-drive = drive
devices-no-sessions = No active sessions on this device.
devices-session = Session
devices-last-active = last active
devices-manufacturer = Manufacturer
devices-manufacturer-hint = For example Contoso.
devices-model = Model
devices-operating-system = Operating system
devices-operating-system-hint = For example iOS, Android, Windows or macOS.
devices-operating-system-version = Operating system version
devices-optional = { $label } (optional)
devices-new-name = New name
devices-save-name = Save name
devices-rename = Rename
devices-rename-named = Rename { $device }
devices-renamed = { $device } is now called { $name }.
devices-delete = Delete
devices-delete-named = Delete { $device }
devices-delete-title = Delete { $device }?
devices-delete-message = The device is removed from your account. If it is lost or stolen, disable it instead: that also signs it out everywhere at once.
devices-delete-device = Delete device
devices-deleted = { $device } was deleted.
devices-disable = Disable device
devices-disable-named = Disable { $device }
devices-disable-title = Disable { $device }?
devices-disable-message = Do this if the device is lost or stolen. Every session on it ends at once and it can no longer sign in.
devices-disable-detail = Only an administrator can enable it again.
devices-disabled-named = { $device } is disabled.
devices-show-keys = Show recovery keys
devices-show-keys-named = Show recovery keys of { $device }
devices-recovery-keys = Recovery keys
devices-reveal-key = Reveal key
devices-reveal-named = Reveal the { $volume } recovery key
devices-key-shown = Recovery key shown.
devices-key-id = Key ID
devices-key-stored = stored
devices-enabled = Enabled
devices-disabled = Disabled
devices-type = Type
devices-make-and-model = Make and model
devices-joined = Joined
devices-organization-device = Organization device
devices-personal-device = Personal device
devices-registered = Registered
devices-last-activity = Last activity
devices-managed = Managed
devices-compliant = Compliant
devices-sessions-on-device = Sessions on this device
devices-name = Name
devices-name-hint = How you will recognise it, for example "Adele's phone".
devices-register = Register device
devices-registered-named = { $device } is registered.
devices-register-title = Register a personal device
devices-register-text = Register a phone, tablet or computer of your own so you can tell its sessions apart and disable it if it is lost.
devices-intro = Devices you registered or your organization joined, with where you are signed in.
devices-manage-sessions = Manage sessions
devices-none = You have no registered devices.
devices-others = Other browsers and devices
devices-others-none = No sessions on unregistered devices.

## My sign-ins
sign-ins-title = My sign-ins
sign-ins-app-browser = Browser
sign-ins-app-mobile-desktop = Mobile or desktop app
sign-ins-app-app-password = App password (older app)
sign-ins-app-other = Other
sign-ins-risk-new-country = a country not seen before for you
sign-ins-risk-new-device = a device or browser not seen before for you
sign-ins-risk-ip-failures = an address with many failed sign-ins to several accounts
sign-ins-risk-impossible-travel = too far from your previous sign-in for the time between them
sign-ins-requirement-single = Password only (single-factor)
sign-ins-requirement-multi = Multi-factor
sign-ins-method-password = Password
sign-ins-method-otp = One-time code
sign-ins-method-sms = Text message
sign-ins-method-call = Phone call
sign-ins-method-security-key = Security key
sign-ins-method-mfa = Multi-factor
sign-ins-method-app-password = App password
sign-ins-method-authenticator-app = Authenticator app
sign-ins-method-email = Email code
sign-ins-method-recovery-code = Recovery code
sign-ins-method-synced-passkey = Synced passkey
sign-ins-method-passkey = Passkey (no password)
sign-ins-category-all = All changes
sign-ins-category-profile = Profile
sign-ins-category-password = Password
sign-ins-category-security-info = Security info
sign-ins-category-sessions = Sessions
sign-ins-category-devices = Devices
sign-ins-category-organizations = Organizations
sign-ins-category-privacy = Privacy
sign-ins-category-sign-in = Sign-in reviews
sign-ins-category-account = Account
sign-ins-list = Sign-ins
sign-ins-more = Show more sign-ins
sign-ins-filter = Filter sign-ins
sign-ins-result = Result
sign-ins-all = All
sign-ins-from = From
sign-ins-to = To
sign-ins-only-risky = Only risky sign-ins
sign-ins-apply-filters = Apply filters
sign-ins-report-title = Report this sign-in?
sign-ins-report-message = If this was not you, someone else may know your password.
sign-ins-report-signed-out = You will be signed out everywhere, this browser too.
sign-ins-report-new-password = You will have to choose a new password at your next sign-in.
sign-ins-me = This was me
sign-ins-not-me = This wasn’t me
sign-ins-sign-in-again = Sign in again
sign-ins-choose-new-password = Sign in again and choose a new password.
sign-ins-thanks = Thanks for telling us.
sign-ins-marked-as-you = Thanks, marked as you.
sign-ins-marked = Marked as you.
sign-ins-risk-badge = Risk: { $level }
sign-ins-app = App
sign-ins-browser = Browser
sign-ins-authentication = Authentication
sign-ins-requirement = Requirement
sign-ins-risk = Risk
sign-ins-risk-none = none
sign-ins-user-agent = User agent
sign-ins-id = Sign-in ID
sign-ins-steps = Steps
sign-ins-step-succeeded = succeeded
sign-ins-step-failed = failed
sign-ins-loading = Loading sign-ins…
sign-ins-none = No sign-ins match.
sign-ins-activity = Account activity
sign-ins-more-activity = Show more activity
sign-ins-filter-activity = Filter activity
sign-ins-kind-of-change = Kind of change
sign-ins-show = Show
sign-ins-loading-activity = Loading activity…
sign-ins-no-activity = No account activity yet.
sign-ins-intro = Every attempt to sign in to your account, successful or not. If you do not recognize one, report it.

## Common actions
continue = Continue
close = Close
next = Next

## Sign-in methods (sign-in, step-up, password reset, security info)
method-authenticator-app = Authenticator app
method-phone = Phone
method-phone-mobile = Mobile phone
method-phone-alternate-mobile = Alternate mobile phone
method-phone-office = Office phone
method-email = Email
method-security-key = Security key or passkey
method-recovery-code = Recovery code
method-recovery-codes = Recovery codes
method-app-password = App password
method-with-label = { $method }: { $label }

## The second step: proving a sign-in method
mfa-verify = Verify
mfa-verify-with = Verify with
mfa-verify-with-one = Verify with: { $method }
mfa-method-default = { $method } (default)
mfa-app-code = Code from your authenticator app
mfa-app-code-hint = Enter the 6-digit code the app shows now.
mfa-recovery-code = Recovery code
mfa-recovery-code-hint = Each recovery code works once.
mfa-send-code = Send code
mfa-send-new-code = Send a new code
mfa-will-send = We will send a code to { $target }.
mfa-will-send-phone = We will send a code to your phone.
mfa-will-send-email = We will send a code to your email address.
mfa-sent = We sent a code to { $target }.
mfa-sent-unnamed = We sent you a code.
mfa-sent-phone = We sent a code to your phone.
mfa-sent-email = We sent a code to your email address.
mfa-received-code = Code you received
mfa-received-code-hint = It expires in a few minutes.
mfa-use-security-key = Use my security key
mfa-security-key-ready = Have your security key or passkey ready, then follow your browser.
mfa-security-key-unsupported = This browser cannot use security keys. Choose another method.
mfa-security-key-no-answer = The security key did not answer ({ $error }). Try again or choose another method.
mfa-method-unusable = This method cannot be used here. Choose another one.
mfa-no-method = No sign-in method can finish this sign-in. Ask your administrator for help.

## Sign-in
signin-title = Sign in
signin-intro = Sign in to manage your account, security info and devices.
signin-username = Email or user name
signin-password = Password
signin-submit = Sign in
signin-username-missing = Enter your email or user name.
signin-password-missing = Enter your password.
signin-missing = Enter your user name and password.
signin-passkey = Sign in with a passkey
signin-passkey-no-answer = No passkey answered ({ $error }). Try again, or sign in with your password.
signin-forgot-password = Forgot my password?
signin-incomplete = The sign-in could not be completed. Try again.
signin-start-over = Start over
signin-verify-title = Verify your identity
signin-verify-text = Your password was right. Now prove it is you with a second method.
signin-more-info-title = More information required
signin-more-info-text = Your organization requires a second way to prove it is you. Set one up now to finish signing in.
signin-new-password-title = Choose a new password
signin-new-password-text = Before you continue, choose a new password. Your old one can no longer be used.
signin-new-password-reason = You reported a sign-in that was not you, so your password may be known to someone else: choose a new one to continue.
signin-set-password = Set password and sign in
signin-register-app = Set up an authenticator app
signin-register-app-verify = Verify the authenticator app
signin-register-app-scan = Scan the QR code with your authenticator app, or type the key into it. Then enter the code the app shows.
signin-register-app-key = Key:
signin-verify-and-sign-in = Verify and sign in

## Verifying it is you again (step-up) and switching organization
reauth-title = Verify it’s you
reauth-enter-password = Enter your password to continue.
reauth-second-method = Now verify with a second method.
reauth-incomplete = Verification could not be completed.
switch-enter-password = Enter your password to sign in to { $organization }. Your current session here ends once you have.
switch-needs-full-sign-in = Signing in to { $organization } needs more than this dialog can ask. Sign out, then sign in again.

## Forgot my password
reset-title = Reset your password
reset-intro = Enter your user name. You will prove it is you with a sign-in method you registered, then choose a new password.
reset-username-missing = Enter your user name.
reset-back = Back to sign-in
reset-prove-methods = { $count ->
    [one] To choose a new password, prove one more method you registered.
   *[other] To choose a new password, prove { $count } methods you registered.
}
reset-verified = Your identity is verified. Choose a new password: every session of yours will be signed out.
reset-submit = Reset password
reset-done = Your password was reset and you were signed out everywhere. Sign in with your new password.
reset-no-method = No sign-in method of yours can reset the password. Ask your organization’s help desk.

## Security info
security-title = Security info
security-default = Default
security-phone-unavailable-badge = Codes cannot be sent now
security-delivery-sms-short = text message
security-delivery-voice-short = voice call
security-codes-left = { $count } left
security-codes-left-label = Recovery codes left
security-codes-used-up = You have used all your recovery codes. Generate new ones (Add a sign-in method, Recovery codes).
security-codes-few = { $count ->
    [one] Only { $count } recovery code is left. Generate new ones before you run out (Add a sign-in method, Recovery codes).
   *[other] Only { $count } recovery codes are left. Generate new ones before you run out (Add a sign-in method, Recovery codes).
}
security-key-provider = Provider: { $provider }
security-key-provider-unknown = Provider not known
security-key-passwordless = Signs you in without a password
security-key-second-step-only = Second step only: it was registered without a passkey of its own, so it cannot sign you in alone. Register it again to use it without a password.
security-copy = Copy
security-copied = Copied.
security-copy-refused = Copying is not allowed here; select the text instead.
security-rename-named = Rename { $method }
security-renamed = { $method } renamed to { $name }.
security-name = Name
security-name-hint = Helps you tell your methods apart.
security-name-missing = Enter a name.
security-name-missing-field = Enter a name (at most 64 characters).
security-remove = Remove
security-remove-named = Remove { $method }
security-remove-title = { $kind ->
    [authenticatorApp] Remove authenticator app?
    [mobile] Remove mobile phone?
    [alternateMobile] Remove alternate mobile phone?
    [office] Remove office phone?
    [phone] Remove phone?
    [email] Remove email?
    [securityKey] Remove security key or passkey?
    [appPassword] Remove app password?
    [recoveryCodes] Remove recovery codes?
   *[other] Remove this sign-in method?
}
security-remove-message = You will no longer be able to use { $method } to sign in.
security-removed = { $method } removed.
security-added-on = Added
security-last-used = Last used
security-not-used = Not used yet
security-default-method = Default sign-in method
security-change-default = Change default
security-default-changed = Default sign-in method changed.
security-mfa-required = Your organization requires a second sign-in method. Add one below.
security-required-by-organization = Required by your organization
security-no-methods = You have no sign-in methods besides your password yet.
security-method-to-add = Method to add
security-method-unavailable = { $method } (unavailable)
security-add = Add
security-add-method = Add a sign-in method
security-method-added = { $method } added.
security-add-app = Add an authenticator app
security-add-app-install = Install an authenticator app on your phone (for example Microsoft Authenticator), then continue.
security-app-scan = Scan this QR code with the app:
security-app-qr-alt = QR code to add your account to an authenticator app
security-app-enter-key-instead = Add an account in the app and choose to enter a key.
security-app-key-or = Or enter this key in the app:
security-app-key = Enter this key in the app:
security-app-open = Open in an authenticator app on this device
security-app-enter-code = Enter the 6-digit code the app shows:
security-app-code = Code from the app
security-add-phone = Add a phone
security-phone-unavailable = Codes cannot be sent to phones here: no text message or voice provider is set up. Add an authenticator app, an email address or a security key instead.
security-phone-type = Phone type
security-phone-number = Phone number
security-delivery = Send codes by
security-delivery-sms = Text message (SMS)
security-delivery-voice = Voice call
security-add-email = Add an email address
security-email-address = Email address
security-add-key = Add a security key or passkey
security-key-unsupported = This browser cannot register security keys.
security-key-default-name = Security key
security-key-register = Register key
security-key-not-registered = The security key was not registered ({ $error }). Try again.
security-key-added = Security key added.
security-add-app-password = Create an app password
security-app-password-intro = App passwords let older apps that cannot ask for a second method sign in. Use one per app.
security-app-password-limits = An app signed in with an app password can read your account but never change it: no new sign-in methods, passwords, exports or sign-outs. Changing your password, or reporting a sign-in as not yours, removes every app password.
security-app-password-name-hint = For example, the app you will use it in.
security-create = Create
security-app-password-new = Your new app password
security-app-password-copy = Copy this password now. It will not be shown again.
security-app-password-created = App password created.
security-done = Done
security-codes-generate-title = Generate recovery codes
security-codes-intro = Recovery codes let you sign in when you cannot use your other methods. Generating new codes replaces any earlier ones.
security-codes-generate = Generate codes
security-codes-yours = Your recovery codes
security-codes-save = Save these codes somewhere safe. They will not be shown again, and each works once.
security-codes-generated = Recovery codes generated.
request-failed = The request failed (HTTP { $status }).

organizations-home-cannot-leave = This is your home organization: your account belongs to it, so you cannot leave it.
organizations-cannot-leave = You cannot leave this organization.
sign-ins-risk-level-low = low
sign-ins-risk-level-medium = medium
sign-ins-risk-level-high = high

## Why a sign-in failed (audit's failure reason codes, `sign-ins-failure-<code>`)
sign-ins-failure-unknown-user = No account has this user name.
sign-ins-failure-invalid-password = The password was wrong.
sign-ins-failure-account-disabled = The account is disabled.
sign-ins-failure-throttled = Blocked for a while after too many failed attempts.
sign-ins-failure-second-factor-failed = The password was right but the second factor was not.
sign-ins-failure-mfa-challenge-expired = The second step was not completed in time.
sign-ins-failure-second-factor-replayed = A code that had already been used was tried again.
sign-ins-failure-mfa-too-many-attempts = Too many wrong second-factor attempts.
sign-ins-failure-not-a-member = The password was right but the account is not a member of that organization.
sign-ins-failure-password-change-required = The credentials were right but a new password had to be chosen first.
sign-ins-failure-device-disabled = The sign-in came from a device that was disabled.
sign-ins-failure-mfa-registration-required = The password was right but the organization requires a second factor, which had to be registered first.
sign-ins-failure-passkey-not-recognized = A passkey this account does not have was offered.
sign-ins-failure-passkey-failed = The passkey's answer did not verify.
sign-ins-failure-passkey-challenge-invalid = The passkey sign-in was not completed in time, or was answered twice.
