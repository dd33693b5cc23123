# Answers the gateway words itself, beside its problems (problems.ftl): the API's own sentences
# in the language Accept-Language asks for. The portal does not load this file.

## "This was me" / "This wasn't me" (POST /me/sign-ins/{id}/review): what happened, then what
## to do next.
sign-in-review-me = Merci de votre confirmation. Vous n’avez rien d’autre à faire.
sign-in-review-not-me = Nous vous déconnectons partout, et vous devrez choisir un nouveau mot de passe à votre prochaine connexion.
sign-in-review-step-new-password = Reconnectez-vous et choisissez un nouveau mot de passe que vous n’utilisez nulle part ailleurs.
sign-in-review-step-security-info = Vérifiez vos informations de sécurité et supprimez toute méthode que vous ne reconnaissez pas.
sign-in-review-step-devices = Vérifiez vos appareils et désactivez ceux que vous ne reconnaissez pas.

## A list in a sentence (the profile fields an activity changed, GET /me/activity): two
## items, and the last of more than two after the others joined by commas.
list-two = { $first } et { $second }
list-more = { $rest } et { $last }
