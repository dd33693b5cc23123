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
