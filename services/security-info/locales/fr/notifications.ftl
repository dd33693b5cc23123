# Notifications (e-mail, SMS, appel) de l’expéditeur de notifications ; vouvoiement.

verification-code-subject = Votre code de vérification MyAccount
verification-code-body =
    Votre code de vérification est { $code }.
    Il expire dans { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }. Si vous ne l’avez pas demandé, ignorez ce message.

sign-in-code-subject = Votre code de connexion MyAccount
sign-in-code-body =
    Votre code de connexion est { $code }.
    Il expire dans { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }. Si vous n’êtes pas en train de vous connecter, changez votre mot de passe.

security-info-changed-subject = Vos informations de sécurité MyAccount ont changé
security-info-changed-body =
    { $change ->
        [method_added] Une méthode de connexion a été ajoutée à votre compte : { $method_type } ({ $method }).
        [method_removed] Une méthode de connexion a été retirée de votre compte : { $method_type } ({ $method }).
        [default_changed] Votre méthode de connexion par défaut est désormais : { $method_type } ({ $method }).
       *[other] Une méthode de connexion de votre compte a changé : { $method_type } ({ $method }).
    }
    Si ce n’était pas vous, vérifiez vos informations de sécurité et changez votre mot de passe.

method-type =
    { $type ->
        [authenticator_app] application d’authentification
        [phone] téléphone
        [email] adresse e-mail
        [security_key] clé de sécurité
        [app_password] mot de passe d’application
        [recovery_codes] codes de récupération
       *[other] { $type }
    }

password-reset-subject = Votre mot de passe MyAccount a été réinitialisé
password-reset-body =
    Le mot de passe de votre compte a été réinitialisé avec « Mot de passe oublié ? », en prouvant : { $methods }.
    Toutes les sessions ont été fermées et vos mots de passe d’application ont été révoqués.
    Si ce n’était pas vous, contactez immédiatement le support de votre organisation.

method-proven =
    { $method ->
        [authenticator_app] code de l’application d’authentification
        [phone_sms] code par SMS
        [phone_voice] code par appel vocal
        [email] code par e-mail
        [security_key] clé de sécurité
        [passkey] clé d’accès
        [recovery_code] code de récupération
        [app_password] mot de passe d’application
       *[other] { $method }
    }

unusual-sign-in-subject = Connexion inhabituelle à votre compte MyAccount
unusual-sign-in-body =
    Une connexion inhabituelle à votre compte a eu lieu.
    Quand : { $time }
    Où : { $location } (adresse IP { $ip_address })
    Pourquoi elle se distingue : { $reasons }
    Si c’était vous, vous pouvez ignorer ce message. Sinon, choisissez « Ce n’était pas moi » pour cette connexion dans « Mes connexions » et changez votre mot de passe.

unknown-location = lieu inconnu

risk-reason =
    { $reason ->
        [new_device] un appareil que vous n’aviez encore jamais utilisé
        [new_country] un pays depuis lequel vous ne vous étiez encore jamais connecté
        [impossible_travel] trop loin de votre connexion précédente pour le temps écoulé entre les deux
        [ip_failures_across_accounts] une adresse depuis laquelle des connexions à de nombreux comptes ont échoué
       *[other] { $reason }
    }

other-subject = Notification MyAccount ({ $template })
