# Answers the gateway words itself, beside its problems (problems.ftl): the API's own sentences
# in the language Accept-Language asks for. The portal does not load this file.

## "This was me" / "This wasn't me" (POST /me/sign-ins/{id}/review): what happened, then what
## to do next.
sign-in-review-me = Thanks for confirming. Nothing else to do.
sign-in-review-not-me = We are signing you out everywhere, and you will have to choose a new password at your next sign-in.
sign-in-review-step-new-password = Sign in again and choose a new password you have not used anywhere else.
sign-in-review-step-security-info = Review your security info and remove any method you do not recognize.
sign-in-review-step-devices = Check your devices and disable any you do not recognize.

## A list in a sentence (the profile fields an activity changed, GET /me/activity): two
## items, and the last of more than two after the others joined by commas.
list-two = { $first } and { $second }
list-more = { $rest }, and { $last }
