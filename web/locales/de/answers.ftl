# Answers the gateway words itself, beside its problems (problems.ftl): the API's own sentences
# in the language Accept-Language asks for. The portal does not load this file.

## "This was me" / "This wasn't me" (POST /me/sign-ins/{id}/review): what happened, then what
## to do next.
sign-in-review-me = Danke für Ihre Bestätigung. Sie müssen nichts weiter tun.
sign-in-review-not-me = Wir melden Sie überall ab. Bei Ihrer nächsten Anmeldung müssen Sie ein neues Kennwort wählen.
sign-in-review-step-new-password = Melden Sie sich erneut an und wählen Sie ein neues Kennwort, das Sie nirgendwo sonst verwenden.
sign-in-review-step-security-info = Überprüfen Sie Ihre Sicherheitsinformationen und entfernen Sie jede Methode, die Sie nicht kennen.
sign-in-review-step-devices = Überprüfen Sie Ihre Geräte und deaktivieren Sie jedes Gerät, das Sie nicht kennen.

## A list in a sentence (the profile fields an activity changed, GET /me/activity): two
## items, and the last of more than two after the others joined by commas.
list-two = { $first } und { $second }
list-more = { $rest } und { $last }
