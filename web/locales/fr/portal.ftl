# Les textes du portail ; mêmes clés et mêmes paramètres que en/portal.ftl.

## Le cadre (index.html, app.js)
app-name = Mon compte
page-title = { $page } - Mon compte
skip-link = Aller au contenu principal
sign-out = Se déconnecter
nav-label = Mon compte
nav-overview = Vue d’ensemble
nav-security-info = Informations de sécurité
nav-password = Mot de passe
nav-devices = Appareils
nav-sessions = Sessions
nav-organizations = Organisations
nav-privacy = Confidentialité
nav-sign-ins = Mes connexions
nav-language = Langue et région
footer-places = Lieux des connexions et des sessions :
loading = Chargement…
not-found-title = Page introuvable
not-found-text = Cette page n’existe pas.
not-found-link = Aller à la vue d’ensemble
signed-out = Vous êtes déconnecté.
network-error-title = Erreur réseau
network-error-detail = Le serveur est injoignable. Vérifiez votre connexion et réessayez.
step-up-cancelled = Annulé : cette modification nécessite d’abord de confirmer votre identité.

## Pourquoi une session a pris fin
ended-default = Votre session a pris fin. Reconnectez-vous pour continuer.
ended-signed-out = Vous avez été déconnecté.
ended-revoked-by-user = Vous avez été déconnecté, car cette session a été fermée depuis votre page Sessions.
ended-other-sessions-revoked = Vous avez été déconnecté, car vous avez choisi de fermer vos autres sessions.
ended-signed-out-everywhere = Vous avez été déconnecté, car vous avez choisi de vous déconnecter partout.
ended-password-changed = Vous avez été déconnecté, car votre mot de passe a été modifié.
ended-password-reset = Vous avez été déconnecté, car votre mot de passe a été réinitialisé.
ended-device-disabled = Vous avez été déconnecté, car cet appareil a été désactivé.
ended-reported-not-me = Vous avez été déconnecté, car une connexion a été signalée comme n’étant pas la vôtre. Vous choisirez un nouveau mot de passe après vous être connecté.
ended-left-organization = Vous avez été déconnecté, car vous avez quitté l’organisation de cette session.
ended-removed-from-organization = Vous avez été déconnecté, car vous avez été retiré de l’organisation de cette session.
ended-account-disabled = Vous avez été déconnecté, car votre compte a été désactivé.
ended-account-deleted = Vous avez été déconnecté, car votre compte a été supprimé.
expired-idle-timeout = Vous avez été déconnecté après une période d’inactivité. Reconnectez-vous pour continuer.
expired-max-lifetime = Vous avez été déconnecté, car votre session a atteint sa durée maximale. Reconnectez-vous pour continuer.

## Éléments communs
error-not-loaded = Impossible de charger cet élément.
error-generic = Une erreur s’est produite.
try-again = Réessayer
form-correct-fields = Corrigez les champs signalés ci-dessous.
unavailable-text = Cette information est temporairement indisponible. Réessayez dans un instant.
unknown-device = Appareil inconnu
browser-on = { $browser } sur { $os }
review-confirmed-me = Vous avez confirmé que c’était vous
review-reported-not-me = Vous avez signalé que ce n’était pas vous
none-yet = Aucune pour l’instant
save = Enregistrer
cancel = Annuler
nothing-changed = Rien n’a changé.

## Vue d’ensemble
overview-title = Vue d’ensemble
overview-profile = Profil
overview-edit-profile = Modifier le profil
overview-profile-saved = Votre profil a été enregistré.
overview-security-info = Informations de sécurité
overview-methods = Méthodes de connexion
overview-default-method = Méthode par défaut
overview-default-method-none = Aucune
overview-mfa = Authentification multifacteur
overview-mfa-set-up = Configurée
overview-mfa-not-set-up = Non configurée
overview-update-security-info = Mettre à jour les informations de sécurité
overview-password = Mot de passe
overview-password-text = Changez votre mot de passe et fermez vos autres sessions si quelqu’un d’autre pourrait le connaître.
overview-change-password = Changer le mot de passe
overview-devices = Appareils
overview-devices-count = Appareils
overview-latest-activity = Dernière activité
overview-manage-devices = Gérer les appareils
overview-organizations = Organisations
overview-home-organization = Organisation d’origine
overview-unknown = Inconnue
overview-guest-of = Invité de
overview-guest-count = { $count ->
    [one] { $count } organisation
   *[other] { $count } organisations
}
overview-pending-invitations = Invitations en attente
overview-see-organizations = Voir les organisations
overview-privacy = Confidentialité
overview-privacy-text = Découvrez ce que chaque organisation conserve à votre sujet et pendant combien de temps, et téléchargez vos données.
overview-manage-privacy = Gérer la confidentialité
overview-recent-sign-ins = Connexions récentes
overview-sign-in-successful = Réussie
overview-sign-in-failed = Échouée
overview-no-sign-ins = Aucune connexion pour l’instant.
overview-review-sign-ins = Vérifier mes connexions
overview-language = Langue et région
overview-language-text = Choisissez la langue de Mon compte, la façon d’écrire les dates et les heures, et votre fuseau horaire.
overview-change-language = Modifier la langue et la région

## Champs du profil (la carte du profil et la liste d’activité)
profile-field-display-name = Nom
profile-field-given-name = Prénom
profile-field-surname = Nom de famille
profile-field-user-principal-name = Nom d’utilisateur
profile-field-mail = E-mail
profile-field-job-title = Fonction
profile-field-department = Service
profile-field-office-location = Bureau
profile-field-mobile-phone = Téléphone mobile
profile-field-business-phone = Téléphone professionnel
profile-field-preferred-language = Langue d’affichage
profile-field-regional-format = Format régional
profile-field-time-zone = Fuseau horaire
profile-hint-phone = Avec l’indicatif du pays, par exemple +33 1 23 45 67 89.

## Langue et région
language-title = Langue et région
language-intro = Choisissez la langue de Mon compte, la façon d’écrire les dates, les heures et les nombres, et le fuseau horaire dans lequel elles s’affichent. Les e-mails et messages de Mon compte utilisent la même langue.
language-display = Langue d’affichage
language-display-hint = La langue de toutes les pages et de tous les messages.
language-browser-default = Selon les préférences de mon navigateur
language-region = Format régional
language-region-hint = La façon d’écrire les dates, les heures et les nombres.
language-region-same = Comme la langue d’affichage
language-zone = Fuseau horaire
language-zone-hint = Les dates et les heures s’affichent dans ce fuseau horaire.
language-zone-device = Fuseau horaire de cet appareil ({ $zone })
language-preview = Les dates et les heures s’afficheront ainsi : { $example }
language-saved = Votre langue et votre région ont été enregistrées.

## Activité du compte
activity-profile-updated = Profil modifié : { $fields }
activity-password-changed = Mot de passe modifié
activity-password-reset = Mot de passe réinitialisé avec « Mot de passe oublié ? » ; toutes les sessions ont été fermées
activity-session-revoked = Session fermée
activity-method-added = Méthode de connexion ajoutée
activity-method-removed = Méthode de connexion supprimée
activity-default-changed = Méthode de connexion par défaut modifiée
activity-device-registered = Appareil inscrit
activity-device-renamed = Appareil renommé
activity-device-deleted = Appareil supprimé
activity-device-disabled = Appareil désactivé
activity-device-enabled = Appareil activé
activity-recovery-key-added = Clé de récupération ajoutée
activity-recovery-key-viewed = Clé de récupération affichée
activity-recovery-key-view-denied = Affichage de la clé de récupération refusé
activity-member-joined = A rejoint une organisation
activity-member-left = A quitté une organisation
activity-member-removed = Retiré d’une organisation
activity-invitation-created = Invité dans une organisation
activity-invitation-declined = Invitation refusée
activity-flagged = Connexion signalée comme n’étant pas la mienne ; toutes les sessions ont été fermées
activity-data-exported = Données téléchargées
activity-account-created = Compte créé
activity-account-disabled = Compte désactivé
activity-account-enabled = Compte activé
activity-terms-accepted = Conditions d’utilisation de { $organization } acceptées (version { $version })

## Mot de passe
password-title = Mot de passe
password-change = Changer le mot de passe
password-current = Mot de passe actuel
password-new = Nouveau mot de passe
password-new-hint = Une longue phrase secrète de plusieurs mots est robuste et facile à retenir.
password-confirm = Confirmer le nouveau mot de passe
password-end-other-sessions = Fermer toutes les autres sessions (recommandé si quelqu’un d’autre pourrait connaître votre mot de passe)
password-mismatch = Les nouveaux mots de passe ne correspondent pas.
password-mismatch-field = Saisissez deux fois le même nouveau mot de passe.
password-changed = Votre mot de passe a été modifié.
password-changed-sessions-ended = { $count ->
    [one] Votre mot de passe a été modifié. { $count } autre session a été fermée.
   *[other] Votre mot de passe a été modifié. { $count } autres sessions ont été fermées.
}

## Sessions
sessions-title = Sessions
sessions-this-session = Cette session
sessions-ip-address = Adresse IP
sessions-location = Lieu
sessions-location-unknown = Inconnu
sessions-signed-in = Connexion
sessions-last-active = Dernière activité
sessions-methods = Méthodes de connexion
sessions-sign-out-one-title = Fermer cette session ?
sessions-sign-out-one-message = { $device } sera déconnecté.
sessions-signed-out-one = La session a été fermée.
sessions-sign-out-device = Déconnecter { $device }
sessions-where = Où vous êtes connecté
sessions-none = Aucune session active.
sessions-everywhere-else = Se déconnecter partout ailleurs
sessions-everywhere-else-title = Se déconnecter partout ailleurs ?
sessions-everywhere-else-message = Toutes les autres sessions sont fermées. Celle-ci reste connectée.
sessions-others-signed-out = { $count ->
    [one] { $count } autre session a été fermée.
   *[other] { $count } autres sessions ont été fermées.
}
sessions-everywhere = Se déconnecter partout
sessions-everywhere-title = Se déconnecter partout ?
sessions-everywhere-message = Toutes les sessions sont fermées, y compris celle-ci. Vous devrez vous reconnecter.
sessions-signed-out-everywhere = Vous avez été déconnecté partout.

## Confidentialité
privacy-title = Confidentialité
privacy-service-identity = Compte et connexion
privacy-service-organizations = Organisations
privacy-service-devices = Appareils
privacy-service-security-info = Informations de sécurité
privacy-service-audit = Journaux de connexion et d’activité
privacy-home = Origine
privacy-guest = Invité
privacy-statement = Déclaration de confidentialité
privacy-read-statement = Lire la déclaration de confidentialité
privacy-not-provided = Non fourni
privacy-contact = Contact confidentialité
privacy-sign-ins-kept-for = Connexions conservées pendant
privacy-days = { $count ->
    [one] { $count } jour
   *[other] { $count } jours
}
privacy-what-is-kept = Ce qui est conservé à votre sujet
privacy-download-my-data = Télécharger mes données
privacy-downloaded = Vos données ont été téléchargées.
privacy-download-title = Télécharger vos données
privacy-download-text = Un fichier JSON avec tout ce que Mon compte conserve à votre sujet : profil, sessions, informations de sécurité (sans secrets), appareils (sans clés), organisations, connexions et activité.
privacy-confirm-name = Saisissez votre nom d’utilisateur pour confirmer
privacy-confirm-name-detail = Saisissez votre nom d’utilisateur pour confirmer.
privacy-required = Obligatoire.
privacy-delete-my-account = Supprimer mon compte
privacy-delete-confirm-title = Supprimer votre compte ?
privacy-delete-confirm-message = Votre compte et tout ce que Mon compte conserve à votre sujet seront effacés. Cette action est irréversible.
privacy-deleted = Votre compte a été supprimé.
privacy-delete-title = Supprimer votre compte
privacy-delete-text = La suppression de votre compte vous déconnecte partout et efface vos données dans tous les services.
privacy-delete-not-allowed = Votre organisation ne vous permet pas de supprimer votre propre compte.
privacy-retention-title = Durée de conservation des données
privacy-retention-sign-ins = Connexions
privacy-retention-activity = Activité du compte
privacy-retention-after-deletion = Après la suppression de votre compte
privacy-terms-title = Conditions d’utilisation
privacy-terms-text = Les conditions d’utilisation de vos organisations, la version en vigueur et si vous l’avez acceptée.
privacy-terms-none = Aucune de vos organisations ne vous demande d’accepter des conditions d’utilisation.
privacy-terms-document = Conditions
privacy-terms-read = Lire les conditions d’utilisation de { $organization }
privacy-terms-version = Version
privacy-terms-accepted-badge = Acceptées
privacy-terms-accepted-on = Acceptées le { $date }
privacy-terms-new-version = Une nouvelle version est disponible
privacy-terms-earlier-version = Vous avez accepté la version { $version } le { $date }.
privacy-terms-accept = Accepter
privacy-terms-accept-label = Accepter les conditions d’utilisation de { $organization }, version { $version }
privacy-terms-accepted = Vous avez accepté les conditions d’utilisation de { $organization } (version { $version }).

## Organisations
confirm = Confirmer
yes = Oui
no = Non
organizations-title = Organisations
organizations-switched = Vous êtes maintenant connecté à { $organization }.
organizations-switch-to = Passer à { $organization }
organizations-signed-in-here = Connecté ici
organizations-domains = Domaines
organizations-joined = Rejointe le
organizations-invited-by = Invité par
organizations-technical-contact = Contact technique
organizations-mfa-required = Exige une seconde méthode de connexion
organizations-leave = Quitter l’organisation
organizations-leave-named = Quitter { $organization }
organizations-leave-title = Quitter { $organization } ?
organizations-leave-message = Vous perdrez l’accès à ses applications et ressources. Pour revenir, il vous faudra une nouvelle invitation.
organizations-left = Vous avez quitté { $organization }.
organizations-current-home = Cette session est connectée à { $organization }, votre organisation d’origine.
organizations-current-guest = Cette session est connectée à { $organization } en tant qu’invité.
organizations-current-none = Cette session n’est connectée à aucune des organisations listées ici.
organizations-none = Vous n’appartenez à aucune organisation.
organizations-invitations = Invitations
organizations-invited = Invité le
organizations-accept = Accepter
organizations-accept-named = Accepter l’invitation de { $organization }
organizations-joined-named = Vous avez rejoint { $organization }.
organizations-decline = Refuser
organizations-decline-named = Refuser l’invitation de { $organization }
organizations-decline-title = Refuser l’invitation de { $organization } ?
organizations-decline-message = L’organisation sera informée de votre refus.
organizations-declined = Invitation refusée.
organizations-no-invitations = Aucune invitation ne vous attend.

## Appareils
devices-title = Appareils
devices-type-phone = Téléphone
devices-type-tablet = Tablette
devices-type-laptop = Ordinateur portable
devices-type-desktop = Ordinateur de bureau
devices-type-other = Appareil
devices-type-other-choice = Autre
devices-volume-operating-system = Lecteur du système d’exploitation
devices-volume-fixed-data = Lecteur de données fixe
devices-volume-removable-data = Lecteur amovible
devices-volume-drive = lecteur
devices-no-sessions = Aucune session active sur cet appareil.
devices-session = Session
devices-last-active = dernière activité
devices-manufacturer = Fabricant
devices-manufacturer-hint = Par exemple Contoso.
devices-model = Modèle
devices-operating-system = Système d’exploitation
devices-operating-system-hint = Par exemple iOS, Android, Windows ou macOS.
devices-operating-system-version = Version du système d’exploitation
devices-optional = { $label } (facultatif)
devices-new-name = Nouveau nom
devices-save-name = Enregistrer le nom
devices-rename = Renommer
devices-rename-named = Renommer { $device }
devices-renamed = { $device } s’appelle désormais { $name }.
devices-delete = Supprimer
devices-delete-named = Supprimer { $device }
devices-delete-title = Supprimer { $device } ?
devices-delete-message = L’appareil est retiré de votre compte. S’il est perdu ou volé, désactivez-le plutôt : il est alors aussi déconnecté partout immédiatement.
devices-delete-device = Supprimer l’appareil
devices-deleted = { $device } a été supprimé.
devices-disable = Désactiver l’appareil
devices-disable-named = Désactiver { $device }
devices-disable-title = Désactiver { $device } ?
devices-disable-message = Faites-le si l’appareil est perdu ou volé. Toutes ses sessions sont fermées immédiatement et il ne peut plus se connecter.
devices-disable-detail = Seul un administrateur peut le réactiver.
devices-disabled-named = { $device } est désactivé.
devices-show-keys = Afficher les clés de récupération
devices-show-keys-named = Afficher les clés de récupération de { $device }
devices-recovery-keys = Clés de récupération
devices-reveal-key = Révéler la clé
devices-reveal-named = Révéler la clé de récupération : { $volume }
devices-key-shown = Clé de récupération affichée.
devices-key-id = ID de clé
devices-key-stored = enregistrée
devices-enabled = Activé
devices-disabled = Désactivé
devices-type = Type
devices-make-and-model = Marque et modèle
devices-joined = Rattachement
devices-organization-device = Appareil de l’organisation
devices-personal-device = Appareil personnel
devices-registered = Inscrit
devices-last-activity = Dernière activité
devices-managed = Géré
devices-compliant = Conforme
devices-sessions-on-device = Sessions sur cet appareil
devices-name = Nom
devices-name-hint = Comment vous le reconnaîtrez, par exemple « Téléphone d’Adèle ».
devices-register = Inscrire l’appareil
devices-registered-named = { $device } est inscrit.
devices-register-title = Inscrire un appareil personnel
devices-register-text = Inscrivez votre propre téléphone, tablette ou ordinateur pour distinguer ses sessions et le désactiver en cas de perte.
devices-intro = Les appareils que vous avez inscrits ou que votre organisation a rattachés, avec les endroits où vous êtes connecté.
devices-manage-sessions = Gérer les sessions
devices-none = Vous n’avez aucun appareil inscrit.
devices-others = Autres navigateurs et appareils
devices-others-none = Aucune session sur des appareils non inscrits.

## Mes connexions
sign-ins-title = Mes connexions
sign-ins-app-browser = Navigateur
sign-ins-app-mobile-desktop = Application mobile ou de bureau
sign-ins-app-app-password = Mot de passe d’application (ancienne application)
sign-ins-app-other = Autre
sign-ins-risk-new-country = un pays jamais vu auparavant pour vous
sign-ins-risk-new-device = un appareil ou navigateur jamais vu auparavant pour vous
sign-ins-risk-ip-failures = une adresse avec de nombreux échecs de connexion sur plusieurs comptes
sign-ins-risk-impossible-travel = trop loin de votre connexion précédente pour le temps écoulé
sign-ins-requirement-single = Mot de passe seul (un facteur)
sign-ins-requirement-multi = Multifacteur
sign-ins-method-password = Mot de passe
sign-ins-method-otp = Code à usage unique
sign-ins-method-sms = SMS
sign-ins-method-call = Appel téléphonique
sign-ins-method-security-key = Clé de sécurité
sign-ins-method-mfa = Multifacteur
sign-ins-method-app-password = Mot de passe d’application
sign-ins-method-authenticator-app = Application d’authentification
sign-ins-method-email = Code par e-mail
sign-ins-method-recovery-code = Code de récupération
sign-ins-method-synced-passkey = Clé d’accès synchronisée
sign-ins-method-passkey = Clé d’accès (sans mot de passe)
sign-ins-category-all = Toutes les modifications
sign-ins-category-profile = Profil
sign-ins-category-password = Mot de passe
sign-ins-category-security-info = Informations de sécurité
sign-ins-category-sessions = Sessions
sign-ins-category-devices = Appareils
sign-ins-category-organizations = Organisations
sign-ins-category-privacy = Confidentialité
sign-ins-category-sign-in = Vérifications de connexions
sign-ins-category-account = Compte
sign-ins-list = Connexions
sign-ins-more = Afficher plus de connexions
sign-ins-filter = Filtrer les connexions
sign-ins-result = Résultat
sign-ins-all = Toutes
sign-ins-from = Du
sign-ins-to = Au
sign-ins-only-risky = Connexions à risque uniquement
sign-ins-apply-filters = Appliquer les filtres
sign-ins-report-title = Signaler cette connexion ?
sign-ins-report-message = Si ce n’était pas vous, quelqu’un d’autre connaît peut-être votre mot de passe.
sign-ins-report-signed-out = Vous serez déconnecté partout, y compris dans ce navigateur.
sign-ins-report-new-password = Vous devrez choisir un nouveau mot de passe à votre prochaine connexion.
sign-ins-me = C’était moi
sign-ins-not-me = Ce n’était pas moi
sign-ins-sign-in-again = Se reconnecter
sign-ins-choose-new-password = Reconnectez-vous et choisissez un nouveau mot de passe.
sign-ins-thanks = Merci de nous l’avoir signalé.
sign-ins-marked-as-you = Merci, marquée comme étant vous.
sign-ins-marked = Marquée comme étant vous.
sign-ins-risk-badge = Risque : { $level }
sign-ins-app = Application
sign-ins-browser = Navigateur
sign-ins-authentication = Authentification
sign-ins-requirement = Exigence
sign-ins-risk = Risque
sign-ins-risk-none = aucun
sign-ins-user-agent = Agent utilisateur
sign-ins-id = ID de connexion
sign-ins-steps = Étapes
sign-ins-step-succeeded = réussie
sign-ins-step-failed = échouée
sign-ins-loading = Chargement des connexions…
sign-ins-none = Aucune connexion ne correspond.
sign-ins-activity = Activité du compte
sign-ins-more-activity = Afficher plus d’activité
sign-ins-filter-activity = Filtrer l’activité
sign-ins-kind-of-change = Type de modification
sign-ins-show = Afficher
sign-ins-loading-activity = Chargement de l’activité…
sign-ins-no-activity = Aucune activité pour l’instant.
sign-ins-intro = Chaque tentative de connexion à votre compte, réussie ou non. Si vous n’en reconnaissez pas une, signalez-la.

## Common actions
continue = Continuer
close = Fermer
next = Suivant

## Sign-in methods (sign-in, step-up, password reset, security info)
method-authenticator-app = Application d’authentification
method-phone = Téléphone
method-phone-mobile = Téléphone mobile
method-phone-alternate-mobile = Autre téléphone mobile
method-phone-office = Téléphone de bureau
method-email = E-mail
method-security-key = Clé de sécurité ou clé d’accès
method-recovery-code = Code de récupération
method-recovery-codes = Codes de récupération
method-app-password = Mot de passe d’application
method-with-label = { $method } : { $label }

## The second step: proving a sign-in method
mfa-verify = Vérifier
mfa-verify-with = Vérifier avec
mfa-verify-with-one = Vérifier avec : { $method }
mfa-method-default = { $method } (par défaut)
mfa-app-code = Code de votre application d’authentification
mfa-app-code-hint = Entrez le code à 6 chiffres que l’application affiche maintenant.
mfa-recovery-code = Code de récupération
mfa-recovery-code-hint = Chaque code de récupération ne fonctionne qu’une fois.
mfa-send-code = Envoyer le code
mfa-send-new-code = Envoyer un nouveau code
mfa-will-send = Nous allons envoyer un code à { $target }.
mfa-will-send-phone = Nous allons envoyer un code à votre téléphone.
mfa-will-send-email = Nous allons envoyer un code à votre adresse e-mail.
mfa-sent = Nous avons envoyé un code à { $target }.
mfa-sent-unnamed = Nous vous avons envoyé un code.
mfa-sent-phone = Nous avons envoyé un code à votre téléphone.
mfa-sent-email = Nous avons envoyé un code à votre adresse e-mail.
mfa-received-code = Code reçu
mfa-received-code-hint = Il expire dans quelques minutes.
mfa-use-security-key = Utiliser ma clé de sécurité
mfa-security-key-ready = Munissez-vous de votre clé de sécurité ou de votre clé d’accès, puis suivez les instructions de votre navigateur.
mfa-security-key-unsupported = Ce navigateur ne peut pas utiliser de clés de sécurité. Choisissez une autre méthode.
mfa-security-key-no-answer = La clé de sécurité n’a pas répondu ({ $error }). Réessayez ou choisissez une autre méthode.
mfa-method-unusable = Cette méthode ne peut pas être utilisée ici. Choisissez-en une autre.
mfa-no-method = Aucune méthode de connexion ne permet de terminer cette connexion. Demandez de l’aide à votre administrateur.

## Sign-in
signin-title = Se connecter
signin-intro = Connectez-vous pour gérer votre compte, vos informations de sécurité et vos appareils.
signin-username = E-mail ou nom d’utilisateur
signin-password = Mot de passe
signin-submit = Se connecter
signin-username-missing = Entrez votre adresse e-mail ou votre nom d’utilisateur.
signin-password-missing = Entrez votre mot de passe.
signin-missing = Entrez votre nom d’utilisateur et votre mot de passe.
signin-passkey = Se connecter avec une clé d’accès
signin-passkey-no-answer = Aucune clé d’accès n’a répondu ({ $error }). Réessayez ou connectez-vous avec votre mot de passe.
signin-forgot-password = Mot de passe oublié ?
signin-incomplete = La connexion n’a pas pu aboutir. Réessayez.
signin-start-over = Recommencer
signin-verify-title = Vérifier votre identité
signin-verify-text = Votre mot de passe était correct. Prouvez maintenant qu’il s’agit bien de vous avec une deuxième méthode.
signin-more-info-title = Plus d’informations requises
signin-more-info-text = Votre organisation exige une deuxième façon de prouver votre identité. Configurez-en une maintenant pour terminer la connexion.
signin-new-password-title = Choisir un nouveau mot de passe
signin-new-password-text = Avant de continuer, choisissez un nouveau mot de passe. L’ancien ne peut plus être utilisé.
signin-new-password-reason = Vous avez signalé une connexion qui n’était pas la vôtre : votre mot de passe est peut-être connu de quelqu’un d’autre. Choisissez-en un nouveau pour continuer.
signin-set-password = Définir le mot de passe et se connecter
signin-register-app = Configurer une application d’authentification
signin-register-app-verify = Vérifier l’application d’authentification
signin-register-app-scan = Scannez le code QR avec votre application d’authentification, ou saisissez-y la clé. Entrez ensuite le code affiché par l’application.
signin-register-app-key = Clé :
signin-verify-and-sign-in = Vérifier et se connecter

## Verifying it is you again (step-up) and switching organization
reauth-title = Confirmez votre identité
reauth-enter-password = Entrez votre mot de passe pour continuer.
reauth-second-method = Vérifiez maintenant avec une deuxième méthode.
reauth-incomplete = La vérification n’a pas pu aboutir.
switch-enter-password = Entrez votre mot de passe pour vous connecter à { $organization }. Votre session actuelle ici prendra fin ensuite.
switch-needs-full-sign-in = La connexion à { $organization } demande plus que ce que cette boîte de dialogue peut demander. Déconnectez-vous, puis reconnectez-vous.

## Forgot my password
reset-title = Réinitialiser votre mot de passe
reset-intro = Entrez votre nom d’utilisateur. Vous prouverez votre identité avec une méthode de connexion que vous avez enregistrée, puis choisirez un nouveau mot de passe.
reset-username-missing = Entrez votre nom d’utilisateur.
reset-back = Retour à la connexion
reset-prove-methods = { $count ->
    [one] Pour choisir un nouveau mot de passe, validez encore une méthode que vous avez enregistrée.
   *[other] Pour choisir un nouveau mot de passe, validez { $count } méthodes que vous avez enregistrées.
}
reset-verified = Votre identité est vérifiée. Choisissez un nouveau mot de passe : toutes vos sessions seront déconnectées.
reset-submit = Réinitialiser le mot de passe
reset-done = Votre mot de passe a été réinitialisé et vous avez été déconnecté partout. Connectez-vous avec votre nouveau mot de passe.
reset-no-method = Aucune de vos méthodes de connexion ne permet de réinitialiser le mot de passe. Contactez le support de votre organisation.

## Security info
security-title = Informations de sécurité
security-default = Par défaut
security-phone-unavailable-badge = Impossible d’envoyer des codes pour le moment
security-delivery-sms-short = SMS
security-delivery-voice-short = appel vocal
security-codes-left = { $count ->
    [one] { $count } restant
   *[other] { $count } restants
}
security-codes-left-label = Codes de récupération restants
security-codes-used-up = Vous avez utilisé tous vos codes de récupération. Générez-en de nouveaux (Ajouter une méthode de connexion, Codes de récupération).
security-codes-few = { $count ->
    [one] Il ne reste que { $count } code de récupération. Générez-en de nouveaux avant d’en manquer (Ajouter une méthode de connexion, Codes de récupération).
   *[other] Il ne reste que { $count } codes de récupération. Générez-en de nouveaux avant d’en manquer (Ajouter une méthode de connexion, Codes de récupération).
}
security-key-provider = Fournisseur : { $provider }
security-key-provider-unknown = Fournisseur inconnu
security-key-passwordless = Vous connecte sans mot de passe
security-key-second-step-only = Deuxième étape uniquement : elle a été enregistrée sans clé d’accès propre et ne peut donc pas vous connecter seule. Enregistrez-la à nouveau pour l’utiliser sans mot de passe.
security-copy = Copier
security-copied = Copié.
security-copy-refused = La copie n’est pas autorisée ici ; sélectionnez plutôt le texte.
security-rename-named = Renommer { $method }
security-renamed = { $method } s’appelle désormais { $name }.
security-name = Nom
security-name-hint = Vous aide à distinguer vos méthodes.
security-name-missing = Entrez un nom.
security-name-missing-field = Entrez un nom (64 caractères au maximum).
security-remove = Supprimer
security-remove-named = Supprimer { $method }
security-remove-title = { $kind ->
    [authenticatorApp] Supprimer l’application d’authentification ?
    [mobile] Supprimer le téléphone mobile ?
    [alternateMobile] Supprimer l’autre téléphone mobile ?
    [office] Supprimer le téléphone de bureau ?
    [phone] Supprimer le téléphone ?
    [email] Supprimer l’adresse e-mail ?
    [securityKey] Supprimer la clé de sécurité ou clé d’accès ?
    [appPassword] Supprimer le mot de passe d’application ?
    [recoveryCodes] Supprimer les codes de récupération ?
   *[other] Supprimer cette méthode de connexion ?
}
security-remove-message = Vous ne pourrez plus utiliser { $method } pour vous connecter.
security-removed = Méthode supprimée : { $method }.
security-added-on = Ajoutée le
security-last-used = Dernière utilisation le
security-not-used = Pas encore utilisée
security-default-method = Méthode de connexion par défaut
security-change-default = Modifier la méthode par défaut
security-default-changed = La méthode de connexion par défaut a été modifiée.
security-mfa-required = Votre organisation exige une deuxième méthode de connexion. Ajoutez-en une ci-dessous.
security-required-by-organization = Exigée par votre organisation
security-no-methods = Vous n’avez encore aucune méthode de connexion en dehors de votre mot de passe.
security-method-to-add = Méthode à ajouter
security-method-unavailable = { $method } (indisponible)
security-add = Ajouter
security-add-method = Ajouter une méthode de connexion
security-method-added = Méthode ajoutée : { $method }.
security-add-app = Ajouter une application d’authentification
security-add-app-install = Installez une application d’authentification sur votre téléphone (par exemple Microsoft Authenticator), puis continuez.
security-app-scan = Scannez ce code QR avec l’application :
security-app-qr-alt = Code QR pour ajouter votre compte à une application d’authentification
security-app-enter-key-instead = Ajoutez un compte dans l’application et choisissez de saisir une clé.
security-app-key-or = Ou saisissez cette clé dans l’application :
security-app-key = Saisissez cette clé dans l’application :
security-app-open = Ouvrir dans une application d’authentification sur cet appareil
security-app-enter-code = Entrez le code à 6 chiffres affiché par l’application :
security-app-code = Code de l’application
security-add-phone = Ajouter un téléphone
security-phone-unavailable = Impossible d’envoyer des codes à des téléphones ici : aucun fournisseur de SMS ou d’appels vocaux n’est configuré. Ajoutez plutôt une application d’authentification, une adresse e-mail ou une clé de sécurité.
security-phone-type = Type de téléphone
security-phone-number = Numéro de téléphone
security-delivery = Envoyer les codes par
security-delivery-sms = SMS
security-delivery-voice = Appel vocal
security-add-email = Ajouter une adresse e-mail
security-email-address = Adresse e-mail
security-add-key = Ajouter une clé de sécurité ou une clé d’accès
security-key-unsupported = Ce navigateur ne peut pas enregistrer de clés de sécurité.
security-key-default-name = Clé de sécurité
security-key-register = Enregistrer la clé
security-key-not-registered = La clé de sécurité n’a pas été enregistrée ({ $error }). Réessayez.
security-key-added = Clé de sécurité ajoutée.
security-add-app-password = Créer un mot de passe d’application
security-app-password-intro = Les mots de passe d’application permettent aux anciennes applications qui ne peuvent pas demander de deuxième méthode de se connecter. Utilisez-en un par application.
security-app-password-limits = Une application connectée avec un mot de passe d’application peut lire votre compte, mais jamais le modifier : ni nouvelles méthodes de connexion, ni mots de passe, ni exportations, ni déconnexions. Changer votre mot de passe ou signaler une connexion comme n’étant pas la vôtre supprime tous les mots de passe d’application.
security-app-password-name-hint = Par exemple, l’application dans laquelle vous l’utiliserez.
security-create = Créer
security-app-password-new = Votre nouveau mot de passe d’application
security-app-password-copy = Copiez ce mot de passe maintenant. Il ne sera plus affiché.
security-app-password-created = Mot de passe d’application créé.
security-done = Terminé
security-codes-generate-title = Générer des codes de récupération
security-codes-intro = Les codes de récupération vous permettent de vous connecter lorsque vous ne pouvez pas utiliser vos autres méthodes. Générer de nouveaux codes remplace les précédents.
security-codes-generate = Générer les codes
security-codes-yours = Vos codes de récupération
security-codes-save = Conservez ces codes en lieu sûr. Ils ne seront plus affichés, et chacun ne fonctionne qu’une fois.
security-codes-generated = Codes de récupération générés.
request-failed = La requête a échoué (HTTP { $status }).

organizations-home-cannot-leave = Il s’agit de votre organisation d’origine : votre compte lui appartient, vous ne pouvez donc pas la quitter.
organizations-cannot-leave = Vous ne pouvez pas quitter cette organisation.
sign-ins-risk-level-low = faible
sign-ins-risk-level-medium = moyen
sign-ins-risk-level-high = élevé

## Why a sign-in failed (audit's failure reason codes, `sign-ins-failure-<code>`)
sign-ins-failure-unknown-user = Aucun compte ne porte ce nom d’utilisateur.
sign-ins-failure-invalid-password = Le mot de passe était incorrect.
sign-ins-failure-account-disabled = Le compte est désactivé.
sign-ins-failure-throttled = Bloqué pendant un moment après trop de tentatives échouées.
sign-ins-failure-second-factor-failed = Le mot de passe était correct, mais pas le deuxième facteur.
sign-ins-failure-mfa-challenge-expired = La deuxième étape n’a pas été terminée à temps.
sign-ins-failure-second-factor-replayed = Un code déjà utilisé a été réessayé.
sign-ins-failure-mfa-too-many-attempts = Trop de tentatives erronées pour le deuxième facteur.
sign-ins-failure-not-a-member = Le mot de passe était correct, mais le compte n’est pas membre de cette organisation.
sign-ins-failure-password-change-required = Les identifiants étaient corrects, mais un nouveau mot de passe devait d’abord être choisi.
sign-ins-failure-device-disabled = La connexion provenait d’un appareil désactivé.
sign-ins-failure-mfa-registration-required = Le mot de passe était correct, mais l’organisation exige un deuxième facteur, qui devait d’abord être enregistré.
sign-ins-failure-passkey-not-recognized = Une clé d’accès que ce compte ne possède pas a été présentée.
sign-ins-failure-passkey-failed = La réponse de la clé d’accès n’a pas pu être vérifiée.
sign-ins-failure-passkey-challenge-invalid = La connexion par clé d’accès n’a pas été terminée à temps, ou a reçu deux réponses.
