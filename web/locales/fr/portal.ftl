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
