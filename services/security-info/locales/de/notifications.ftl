# Benachrichtigungen (E-Mail, SMS, Anruf) des Benachrichtigungsdienstes; förmliche Anrede „Sie“.

verification-code-subject = Ihr MyAccount-Bestätigungscode
verification-code-body =
    Ihr Bestätigungscode lautet { $code }.
    Er ist { $minutes ->
        [one] 1 Minute
       *[other] { $minutes } Minuten
    } lang gültig. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.

sign-in-code-subject = Ihr MyAccount-Anmeldecode
sign-in-code-body =
    Ihr Anmeldecode lautet { $code }.
    Er ist { $minutes ->
        [one] 1 Minute
       *[other] { $minutes } Minuten
    } lang gültig. Wenn Sie sich gerade nicht anmelden, ändern Sie Ihr Kennwort.

security-info-changed-subject = Ihre MyAccount-Sicherheitsinformationen wurden geändert
security-info-changed-body =
    { $change ->
        [method_added] Ihrem Konto wurde eine Anmeldemethode hinzugefügt: { $method_type } ({ $method }).
        [method_removed] Aus Ihrem Konto wurde eine Anmeldemethode entfernt: { $method_type } ({ $method }).
        [default_changed] Ihre Standard-Anmeldemethode ist jetzt: { $method_type } ({ $method }).
       *[other] Eine Anmeldemethode Ihres Kontos wurde geändert: { $method_type } ({ $method }).
    }
    Falls Sie das nicht waren, überprüfen Sie Ihre Sicherheitsinformationen und ändern Sie Ihr Kennwort.

method-type =
    { $type ->
        [authenticator_app] Authenticator-App
        [phone] Telefon
        [email] E-Mail-Adresse
        [security_key] Sicherheitsschlüssel
        [app_password] App-Kennwort
        [recovery_codes] Wiederherstellungscodes
       *[other] { $type }
    }

password-reset-subject = Ihr MyAccount-Kennwort wurde zurückgesetzt
password-reset-body =
    Das Kennwort Ihres Kontos wurde mit „Kennwort vergessen?“ zurückgesetzt. Nachgewiesen wurde: { $methods }.
    Alle Sitzungen wurden abgemeldet und Ihre App-Kennwörter widerrufen.
    Falls Sie das nicht waren, wenden Sie sich sofort an den Helpdesk Ihrer Organisation.

method-proven =
    { $method ->
        [authenticator_app] Code aus der Authenticator-App
        [phone_sms] Code per SMS
        [phone_voice] Code per Anruf
        [email] Code per E-Mail
        [security_key] Sicherheitsschlüssel
        [passkey] Passkey
        [recovery_code] Wiederherstellungscode
        [app_password] App-Kennwort
       *[other] { $method }
    }

unusual-sign-in-subject = Ungewöhnliche Anmeldung bei Ihrem MyAccount-Konto
unusual-sign-in-body =
    Bei Ihrem Konto gab es eine ungewöhnliche Anmeldung.
    Wann: { $time }
    Wo: { $location } (IP-Adresse { $ip_address })
    Auffällig, weil: { $reasons }
    Wenn Sie das waren, können Sie diese Nachricht ignorieren. Andernfalls wählen Sie unter „Meine Anmeldungen“ bei dieser Anmeldung „Das war ich nicht“ und ändern Sie Ihr Kennwort.

unknown-location = unbekannter Ort

risk-reason =
    { $reason ->
        [new_device] ein Gerät, das Sie bisher nicht verwendet haben
        [new_country] ein Land, aus dem Sie sich bisher nicht angemeldet haben
        [impossible_travel] zu weit von Ihrer vorigen Anmeldung entfernt für die Zeit dazwischen
        [ip_failures_across_accounts] eine Adresse, von der aus Anmeldungen bei vielen Konten fehlgeschlagen sind
       *[other] { $reason }
    }

other-subject = MyAccount-Benachrichtigung ({ $template })
