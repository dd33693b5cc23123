# Die Texte des Portals; Schlüssel und Platzhalter wie in en/portal.ftl.

## Rahmen (index.html, app.js)
app-name = Mein Konto
page-title = { $page } - Mein Konto
skip-link = Zum Hauptinhalt springen
sign-out = Abmelden
nav-label = Mein Konto
nav-overview = Übersicht
nav-security-info = Sicherheitsinformationen
nav-password = Kennwort
nav-devices = Geräte
nav-sessions = Sitzungen
nav-organizations = Organisationen
nav-privacy = Datenschutz
nav-sign-ins = Meine Anmeldungen
nav-language = Sprache und Region
footer-places = Orte von Anmeldungen und Sitzungen:
loading = Wird geladen …
not-found-title = Seite nicht gefunden
not-found-text = Diese Seite gibt es nicht.
not-found-link = Zur Übersicht
signed-out = Sie haben sich abgemeldet.
network-error-title = Netzwerkfehler
network-error-detail = Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.
step-up-cancelled = Abgebrochen: Für diese Änderung müssen Sie zuerst Ihre Identität bestätigen.

## Warum eine Sitzung endete
ended-default = Ihre Sitzung ist beendet. Melden Sie sich erneut an, um fortzufahren.
ended-signed-out = Sie wurden abgemeldet.
ended-revoked-by-user = Sie wurden abgemeldet, weil diese Sitzung auf Ihrer Seite „Sitzungen“ beendet wurde.
ended-other-sessions-revoked = Sie wurden abgemeldet, weil Sie sich von Ihren anderen Sitzungen abgemeldet haben.
ended-signed-out-everywhere = Sie wurden abgemeldet, weil Sie sich überall abgemeldet haben.
ended-password-changed = Sie wurden abgemeldet, weil Ihr Kennwort geändert wurde.
ended-password-reset = Sie wurden abgemeldet, weil Ihr Kennwort zurückgesetzt wurde.
ended-device-disabled = Sie wurden abgemeldet, weil dieses Gerät deaktiviert wurde.
ended-reported-not-me = Sie wurden abgemeldet, weil eine Anmeldung als nicht von Ihnen gemeldet wurde. Nach der Anmeldung wählen Sie ein neues Kennwort.
ended-left-organization = Sie wurden abgemeldet, weil Sie die Organisation dieser Sitzung verlassen haben.
ended-removed-from-organization = Sie wurden abgemeldet, weil Sie aus der Organisation dieser Sitzung entfernt wurden.
ended-account-disabled = Sie wurden abgemeldet, weil Ihr Konto deaktiviert wurde.
ended-account-deleted = Sie wurden abgemeldet, weil Ihr Konto gelöscht wurde.
expired-idle-timeout = Sie wurden abgemeldet, weil Sie eine Weile inaktiv waren. Melden Sie sich erneut an, um fortzufahren.
expired-max-lifetime = Sie wurden abgemeldet, weil Ihre Sitzung ihre maximale Dauer erreicht hat. Melden Sie sich erneut an, um fortzufahren.

## Gemeinsame Teile
error-not-loaded = Das konnte nicht geladen werden.
error-generic = Etwas ist schiefgelaufen.
try-again = Erneut versuchen
form-correct-fields = Bitte korrigieren Sie die unten markierten Felder.
unavailable-text = Diese Information ist vorübergehend nicht verfügbar. Versuchen Sie es gleich noch einmal.
unknown-device = Unbekanntes Gerät
browser-on = { $browser } unter { $os }
review-confirmed-me = Sie haben bestätigt, dass Sie das waren
review-reported-not-me = Sie haben gemeldet, dass Sie das nicht waren
none-yet = Noch keine
save = Speichern
cancel = Abbrechen
nothing-changed = Es wurde nichts geändert.

## Übersicht
overview-title = Übersicht
overview-profile = Profil
overview-edit-profile = Profil bearbeiten
overview-profile-saved = Ihr Profil wurde gespeichert.
overview-security-info = Sicherheitsinformationen
overview-methods = Anmeldemethoden
overview-default-method = Standardmethode
overview-default-method-none = Keine
overview-mfa = Mehrstufige Authentifizierung
overview-mfa-set-up = Eingerichtet
overview-mfa-not-set-up = Nicht eingerichtet
overview-update-security-info = Sicherheitsinformationen aktualisieren
overview-password = Kennwort
overview-password-text = Ändern Sie Ihr Kennwort und melden Sie sich von Ihren anderen Sitzungen ab, falls jemand anderes es kennen könnte.
overview-change-password = Kennwort ändern
overview-devices = Geräte
overview-devices-count = Geräte
overview-latest-activity = Letzte Aktivität
overview-manage-devices = Geräte verwalten
overview-organizations = Organisationen
overview-home-organization = Heimorganisation
overview-unknown = Unbekannt
overview-guest-of = Gast bei
overview-guest-count = { $count ->
    [one] { $count } Organisation
   *[other] { $count } Organisationen
}
overview-pending-invitations = Offene Einladungen
overview-see-organizations = Organisationen anzeigen
overview-privacy = Datenschutz
overview-privacy-text = Sehen Sie, was jede Organisation wie lange über Sie speichert, und laden Sie Ihre Daten herunter.
overview-manage-privacy = Datenschutz verwalten
overview-recent-sign-ins = Letzte Anmeldungen
overview-sign-in-successful = Erfolgreich
overview-sign-in-failed = Fehlgeschlagen
overview-no-sign-ins = Noch keine Anmeldungen.
overview-review-sign-ins = Meine Anmeldungen prüfen
overview-language = Sprache und Region
overview-language-text = Wählen Sie die Sprache von „Mein Konto“, wie Datum und Uhrzeit geschrieben werden, und Ihre Zeitzone.
overview-change-language = Sprache und Region ändern

## Profilfelder (Profilkarte und Aktivitätenliste)
profile-field-display-name = Name
profile-field-given-name = Vorname
profile-field-surname = Nachname
profile-field-user-principal-name = Benutzername
profile-field-mail = E-Mail
profile-field-job-title = Position
profile-field-department = Abteilung
profile-field-office-location = Büro
profile-field-mobile-phone = Mobiltelefon
profile-field-business-phone = Geschäftstelefon
profile-field-preferred-language = Anzeigesprache
profile-field-regional-format = Regionales Format
profile-field-time-zone = Zeitzone
profile-hint-phone = Mit Ländervorwahl, zum Beispiel +49 30 1234567.

## Sprache und Region
language-title = Sprache und Region
language-intro = Wählen Sie die Sprache von „Mein Konto“, wie Datum, Uhrzeit und Zahlen geschrieben werden und in welcher Zeitzone sie angezeigt werden. E-Mails und Meldungen von „Mein Konto“ verwenden dieselbe Sprache.
language-display = Anzeigesprache
language-display-hint = Die Sprache aller Seiten und Meldungen.
language-browser-default = Wie mein Browser es bevorzugt
language-region = Regionales Format
language-region-hint = Wie Datum, Uhrzeit und Zahlen geschrieben werden.
language-region-same = Wie die Anzeigesprache
language-zone = Zeitzone
language-zone-hint = Datum und Uhrzeit werden in dieser Zeitzone angezeigt.
language-zone-device = Zeitzone dieses Geräts ({ $zone })
language-preview = So sehen Datum und Uhrzeit aus: { $example }
language-saved = Ihre Sprache und Region wurden gespeichert.

## Kontoaktivität
activity-profile-updated = Profil geändert: { $fields }
activity-password-changed = Kennwort geändert
activity-password-reset = Kennwort mit „Kennwort vergessen?“ zurückgesetzt; alle Sitzungen wurden abgemeldet
activity-session-revoked = Sitzung beendet
activity-method-added = Anmeldemethode hinzugefügt
activity-method-removed = Anmeldemethode entfernt
activity-default-changed = Standard-Anmeldemethode geändert
activity-device-registered = Gerät registriert
activity-device-renamed = Gerät umbenannt
activity-device-deleted = Gerät gelöscht
activity-device-disabled = Gerät deaktiviert
activity-device-enabled = Gerät aktiviert
activity-recovery-key-added = Wiederherstellungsschlüssel hinzugefügt
activity-recovery-key-viewed = Wiederherstellungsschlüssel angezeigt
activity-recovery-key-view-denied = Anzeige des Wiederherstellungsschlüssels verweigert
activity-member-joined = Einer Organisation beigetreten
activity-member-left = Eine Organisation verlassen
activity-member-removed = Aus einer Organisation entfernt
activity-invitation-created = In eine Organisation eingeladen
activity-invitation-declined = Einladung abgelehnt
activity-flagged = Eine Anmeldung als nicht von mir gemeldet; alle Sitzungen wurden abgemeldet
activity-data-exported = Daten heruntergeladen
activity-account-created = Konto erstellt
activity-account-disabled = Konto deaktiviert
activity-account-enabled = Konto aktiviert
activity-terms-accepted = Nutzungsbedingungen von { $organization } (Version { $version }) akzeptiert

## Kennwort
password-title = Kennwort
password-change = Kennwort ändern
password-current = Aktuelles Kennwort
password-new = Neues Kennwort
password-new-hint = Eine lange Passphrase aus mehreren Wörtern ist sicher und leicht zu merken.
password-confirm = Neues Kennwort bestätigen
password-end-other-sessions = Von allen anderen Sitzungen abmelden (empfohlen, falls jemand anderes Ihr Kennwort kennen könnte)
password-mismatch = Die neuen Kennwörter stimmen nicht überein.
password-mismatch-field = Geben Sie zweimal dasselbe neue Kennwort ein.
password-changed = Ihr Kennwort wurde geändert.
password-changed-sessions-ended = { $count ->
    [one] Ihr Kennwort wurde geändert. { $count } andere Sitzung wurde abgemeldet.
   *[other] Ihr Kennwort wurde geändert. { $count } andere Sitzungen wurden abgemeldet.
}

## Sitzungen
sessions-title = Sitzungen
sessions-this-session = Diese Sitzung
sessions-ip-address = IP-Adresse
sessions-location = Ort
sessions-location-unknown = Unbekannt
sessions-signed-in = Angemeldet
sessions-last-active = Zuletzt aktiv
sessions-methods = Anmeldemethoden
sessions-sign-out-one-title = Diese Sitzung abmelden?
sessions-sign-out-one-message = { $device } wird abgemeldet.
sessions-signed-out-one = Die Sitzung wurde abgemeldet.
sessions-sign-out-device = { $device } abmelden
sessions-where = Wo Sie angemeldet sind
sessions-none = Keine aktiven Sitzungen.
sessions-everywhere-else = Überall sonst abmelden
sessions-everywhere-else-title = Überall sonst abmelden?
sessions-everywhere-else-message = Alle anderen Sitzungen enden. Diese bleibt angemeldet.
sessions-others-signed-out = { $count ->
    [one] { $count } andere Sitzung wurde abgemeldet.
   *[other] { $count } andere Sitzungen wurden abgemeldet.
}
sessions-everywhere = Überall abmelden
sessions-everywhere-title = Überall abmelden?
sessions-everywhere-message = Alle Sitzungen enden, auch diese. Sie müssen sich erneut anmelden.
sessions-signed-out-everywhere = Sie wurden überall abgemeldet.

## Datenschutz
privacy-title = Datenschutz
privacy-service-identity = Konto und Anmeldung
privacy-service-organizations = Organisationen
privacy-service-devices = Geräte
privacy-service-security-info = Sicherheitsinformationen
privacy-service-audit = Anmelde- und Aktivitätsprotokolle
privacy-home = Heimorganisation
privacy-guest = Gast
privacy-statement = Datenschutzerklärung
privacy-read-statement = Datenschutzerklärung lesen
privacy-not-provided = Nicht angegeben
privacy-contact = Datenschutzkontakt
privacy-sign-ins-kept-for = Anmeldungen werden aufbewahrt für
privacy-days = { $count ->
    [one] { $count } Tag
   *[other] { $count } Tage
}
privacy-what-is-kept = Was über Sie gespeichert wird
privacy-download-my-data = Meine Daten herunterladen
privacy-downloaded = Ihre Daten wurden heruntergeladen.
privacy-download-title = Ihre Daten herunterladen
privacy-download-text = Eine JSON-Datei mit allem, was „Mein Konto“ über Sie speichert: Profil, Sitzungen, Sicherheitsinformationen (ohne Geheimnisse), Geräte (ohne Schlüssel), Organisationen, Anmeldungen und Aktivitäten.
privacy-confirm-name = Geben Sie zur Bestätigung Ihren Benutzernamen ein
privacy-confirm-name-detail = Geben Sie zur Bestätigung Ihren Benutzernamen ein.
privacy-required = Erforderlich.
privacy-delete-my-account = Mein Konto löschen
privacy-delete-confirm-title = Ihr Konto löschen?
privacy-delete-confirm-message = Ihr Konto und alles, was „Mein Konto“ über Sie speichert, werden gelöscht. Das kann nicht rückgängig gemacht werden.
privacy-deleted = Ihr Konto wurde gelöscht.
privacy-delete-title = Ihr Konto löschen
privacy-delete-text = Wenn Sie Ihr Konto löschen, werden Sie überall abgemeldet und Ihre Daten in allen Diensten gelöscht.
privacy-delete-not-allowed = Ihre Organisation erlaubt Ihnen nicht, Ihr eigenes Konto zu löschen.
privacy-retention-title = Wie lange Daten aufbewahrt werden
privacy-retention-sign-ins = Anmeldungen
privacy-retention-activity = Kontoaktivität
privacy-retention-after-deletion = Nach dem Löschen Ihres Kontos
privacy-terms-title = Nutzungsbedingungen
privacy-terms-text = Die Nutzungsbedingungen Ihrer Organisationen, die gültige Version und ob Sie sie akzeptiert haben.
privacy-terms-none = Keine Ihrer Organisationen verlangt, dass Sie Nutzungsbedingungen akzeptieren.
privacy-terms-document = Bedingungen
privacy-terms-read = Nutzungsbedingungen von { $organization } lesen
privacy-terms-version = Version
privacy-terms-accepted-badge = Akzeptiert
privacy-terms-accepted-on = Akzeptiert am { $date }
privacy-terms-new-version = Eine neue Version ist verfügbar
privacy-terms-earlier-version = Sie haben Version { $version } am { $date } akzeptiert.
privacy-terms-accept = Akzeptieren
privacy-terms-accept-label = Nutzungsbedingungen von { $organization }, Version { $version }, akzeptieren
privacy-terms-accepted = Sie haben die Nutzungsbedingungen von { $organization } (Version { $version }) akzeptiert.

## Organisationen
confirm = Bestätigen
yes = Ja
no = Nein
organizations-title = Organisationen
organizations-switched = Sie sind jetzt bei { $organization } angemeldet.
organizations-switch-to = Zu { $organization } wechseln
organizations-signed-in-here = Hier angemeldet
organizations-domains = Domänen
organizations-joined = Beigetreten
organizations-invited-by = Eingeladen von
organizations-technical-contact = Technischer Kontakt
organizations-mfa-required = Erfordert eine zweite Anmeldemethode
organizations-leave = Organisation verlassen
organizations-leave-named = { $organization } verlassen
organizations-leave-title = { $organization } verlassen?
organizations-leave-message = Sie verlieren den Zugriff auf ihre Apps und Ressourcen. Um zurückzukehren, brauchen Sie eine neue Einladung.
organizations-left = Sie haben { $organization } verlassen.
organizations-current-home = Diese Sitzung ist bei { $organization } angemeldet, Ihrer Heimorganisation.
organizations-current-guest = Diese Sitzung ist bei { $organization } als Gast angemeldet.
organizations-current-none = Diese Sitzung ist bei keiner der hier aufgeführten Organisationen angemeldet.
organizations-none = Sie gehören keiner Organisation an.
organizations-invitations = Einladungen
organizations-invited = Eingeladen
organizations-accept = Annehmen
organizations-accept-named = Die Einladung von { $organization } annehmen
organizations-joined-named = Sie sind { $organization } beigetreten.
organizations-decline = Ablehnen
organizations-decline-named = Die Einladung von { $organization } ablehnen
organizations-decline-title = Die Einladung von { $organization } ablehnen?
organizations-decline-message = Die Organisation erfährt, dass Sie abgelehnt haben.
organizations-declined = Einladung abgelehnt.
organizations-no-invitations = Es warten keine Einladungen auf Sie.

## Geräte
devices-title = Geräte
devices-type-phone = Telefon
devices-type-tablet = Tablet
devices-type-laptop = Laptop
devices-type-desktop = Desktop-PC
devices-type-other = Gerät
devices-type-other-choice = Anderes
devices-volume-operating-system = Betriebssystemlaufwerk
devices-volume-fixed-data = Festplattenlaufwerk
devices-volume-removable-data = Wechseldatenträger
devices-volume-drive = Laufwerk
devices-no-sessions = Keine aktiven Sitzungen auf diesem Gerät.
devices-session = Sitzung
devices-last-active = zuletzt aktiv
devices-manufacturer = Hersteller
devices-manufacturer-hint = Zum Beispiel Contoso.
devices-model = Modell
devices-operating-system = Betriebssystem
devices-operating-system-hint = Zum Beispiel iOS, Android, Windows oder macOS.
devices-operating-system-version = Version des Betriebssystems
devices-optional = { $label } (optional)
devices-new-name = Neuer Name
devices-save-name = Namen speichern
devices-rename = Umbenennen
devices-rename-named = { $device } umbenennen
devices-renamed = { $device } heißt jetzt { $name }.
devices-delete = Löschen
devices-delete-named = { $device } löschen
devices-delete-title = { $device } löschen?
devices-delete-message = Das Gerät wird aus Ihrem Konto entfernt. Wenn es verloren oder gestohlen wurde, deaktivieren Sie es stattdessen: Dadurch wird es außerdem sofort überall abgemeldet.
devices-delete-device = Gerät löschen
devices-deleted = { $device } wurde gelöscht.
devices-disable = Gerät deaktivieren
devices-disable-named = { $device } deaktivieren
devices-disable-title = { $device } deaktivieren?
devices-disable-message = Tun Sie das, wenn das Gerät verloren oder gestohlen wurde. Alle Sitzungen darauf enden sofort, und es kann sich nicht mehr anmelden.
devices-disable-detail = Nur ein Administrator kann es wieder aktivieren.
devices-disabled-named = { $device } ist deaktiviert.
devices-show-keys = Wiederherstellungsschlüssel anzeigen
devices-show-keys-named = Wiederherstellungsschlüssel von { $device } anzeigen
devices-recovery-keys = Wiederherstellungsschlüssel
devices-reveal-key = Schlüssel anzeigen
devices-reveal-named = Wiederherstellungsschlüssel für { $volume } anzeigen
devices-key-shown = Wiederherstellungsschlüssel angezeigt.
devices-key-id = Schlüssel-ID
devices-key-stored = gespeichert
devices-enabled = Aktiviert
devices-disabled = Deaktiviert
devices-type = Typ
devices-make-and-model = Hersteller und Modell
devices-joined = Verbunden
devices-organization-device = Gerät der Organisation
devices-personal-device = Persönliches Gerät
devices-registered = Registriert
devices-last-activity = Letzte Aktivität
devices-managed = Verwaltet
devices-compliant = Konform
devices-sessions-on-device = Sitzungen auf diesem Gerät
devices-name = Name
devices-name-hint = Woran Sie es erkennen, zum Beispiel „Adeles Telefon“.
devices-register = Gerät registrieren
devices-registered-named = { $device } ist registriert.
devices-register-title = Ein persönliches Gerät registrieren
devices-register-text = Registrieren Sie ein eigenes Telefon, Tablet oder einen eigenen Computer, um seine Sitzungen zu unterscheiden und es bei Verlust zu deaktivieren.
devices-intro = Geräte, die Sie registriert haben oder die Ihre Organisation verbunden hat, und wo Sie angemeldet sind.
devices-manage-sessions = Sitzungen verwalten
devices-none = Sie haben keine registrierten Geräte.
devices-others = Andere Browser und Geräte
devices-others-none = Keine Sitzungen auf nicht registrierten Geräten.

## Meine Anmeldungen
sign-ins-title = Meine Anmeldungen
sign-ins-app-browser = Browser
sign-ins-app-mobile-desktop = Mobile App oder Desktop-App
sign-ins-app-app-password = App-Kennwort (ältere App)
sign-ins-app-other = Andere
sign-ins-risk-new-country = ein Land, das bei Ihnen noch nicht vorkam
sign-ins-risk-new-device = ein Gerät oder Browser, das bei Ihnen noch nicht vorkam
sign-ins-risk-ip-failures = eine Adresse mit vielen fehlgeschlagenen Anmeldungen bei mehreren Konten
sign-ins-risk-impossible-travel = zu weit von Ihrer vorigen Anmeldung für die Zeit dazwischen
sign-ins-requirement-single = Nur Kennwort (einstufig)
sign-ins-requirement-multi = Mehrstufig
sign-ins-method-password = Kennwort
sign-ins-method-otp = Einmalcode
sign-ins-method-sms = SMS
sign-ins-method-call = Anruf
sign-ins-method-security-key = Sicherheitsschlüssel
sign-ins-method-mfa = Mehrstufig
sign-ins-method-app-password = App-Kennwort
sign-ins-method-authenticator-app = Authenticator-App
sign-ins-method-email = E-Mail-Code
sign-ins-method-recovery-code = Wiederherstellungscode
sign-ins-method-synced-passkey = Synchronisierter Passkey
sign-ins-method-passkey = Passkey (ohne Kennwort)
sign-ins-category-all = Alle Änderungen
sign-ins-category-profile = Profil
sign-ins-category-password = Kennwort
sign-ins-category-security-info = Sicherheitsinformationen
sign-ins-category-sessions = Sitzungen
sign-ins-category-devices = Geräte
sign-ins-category-organizations = Organisationen
sign-ins-category-privacy = Datenschutz
sign-ins-category-sign-in = Prüfungen von Anmeldungen
sign-ins-category-account = Konto
sign-ins-list = Anmeldungen
sign-ins-more = Weitere Anmeldungen anzeigen
sign-ins-filter = Anmeldungen filtern
sign-ins-result = Ergebnis
sign-ins-all = Alle
sign-ins-from = Von
sign-ins-to = Bis
sign-ins-only-risky = Nur riskante Anmeldungen
sign-ins-apply-filters = Filter anwenden
sign-ins-report-title = Diese Anmeldung melden?
sign-ins-report-message = Wenn Sie das nicht waren, kennt vielleicht jemand anderes Ihr Kennwort.
sign-ins-report-signed-out = Sie werden überall abgemeldet, auch in diesem Browser.
sign-ins-report-new-password = Bei der nächsten Anmeldung müssen Sie ein neues Kennwort wählen.
sign-ins-me = Das war ich
sign-ins-not-me = Das war ich nicht
sign-ins-sign-in-again = Erneut anmelden
sign-ins-choose-new-password = Melden Sie sich erneut an und wählen Sie ein neues Kennwort.
sign-ins-thanks = Danke für Ihre Meldung.
sign-ins-marked-as-you = Danke, als von Ihnen markiert.
sign-ins-marked = Als von Ihnen markiert.
sign-ins-risk-badge = Risiko: { $level }
sign-ins-app = App
sign-ins-browser = Browser
sign-ins-authentication = Authentifizierung
sign-ins-requirement = Anforderung
sign-ins-risk = Risiko
sign-ins-risk-none = keines
sign-ins-user-agent = User-Agent
sign-ins-id = Anmelde-ID
sign-ins-steps = Schritte
sign-ins-step-succeeded = erfolgreich
sign-ins-step-failed = fehlgeschlagen
sign-ins-loading = Anmeldungen werden geladen …
sign-ins-none = Keine passenden Anmeldungen.
sign-ins-activity = Kontoaktivität
sign-ins-more-activity = Weitere Aktivitäten anzeigen
sign-ins-filter-activity = Aktivitäten filtern
sign-ins-kind-of-change = Art der Änderung
sign-ins-show = Anzeigen
sign-ins-loading-activity = Aktivitäten werden geladen …
sign-ins-no-activity = Noch keine Kontoaktivität.
sign-ins-intro = Jeder Versuch, sich bei Ihrem Konto anzumelden, ob erfolgreich oder nicht. Wenn Sie einen nicht wiedererkennen, melden Sie ihn.

## Common actions
continue = Weiter
close = Schließen
next = Weiter

## Sign-in methods (sign-in, step-up, password reset, security info)
method-authenticator-app = Authenticator-App
method-phone = Telefon
method-phone-mobile = Mobiltelefon
method-phone-alternate-mobile = Alternatives Mobiltelefon
method-phone-office = Bürotelefon
method-email = E-Mail
method-security-key = Sicherheitsschlüssel oder Passkey
method-recovery-code = Wiederherstellungscode
method-recovery-codes = Wiederherstellungscodes
method-app-password = App-Kennwort
method-with-label = { $method }: { $label }

## The second step: proving a sign-in method
mfa-verify = Überprüfen
mfa-verify-with = Überprüfen mit
mfa-verify-with-one = Überprüfen mit: { $method }
mfa-method-default = { $method } (Standard)
mfa-app-code = Code aus Ihrer Authenticator-App
mfa-app-code-hint = Geben Sie den 6-stelligen Code ein, den die App gerade anzeigt.
mfa-recovery-code = Wiederherstellungscode
mfa-recovery-code-hint = Jeder Wiederherstellungscode funktioniert nur einmal.
mfa-send-code = Code senden
mfa-send-new-code = Neuen Code senden
mfa-will-send = Wir senden einen Code an { $target }.
mfa-will-send-phone = Wir senden einen Code an Ihr Telefon.
mfa-will-send-email = Wir senden einen Code an Ihre E-Mail-Adresse.
mfa-sent = Wir haben einen Code an { $target } gesendet.
mfa-sent-unnamed = Wir haben Ihnen einen Code gesendet.
mfa-sent-phone = Wir haben einen Code an Ihr Telefon gesendet.
mfa-sent-email = Wir haben einen Code an Ihre E-Mail-Adresse gesendet.
mfa-received-code = Erhaltener Code
mfa-received-code-hint = Er läuft in wenigen Minuten ab.
mfa-use-security-key = Meinen Sicherheitsschlüssel verwenden
mfa-security-key-ready = Halten Sie Ihren Sicherheitsschlüssel oder Passkey bereit und folgen Sie dann den Anweisungen Ihres Browsers.
mfa-security-key-unsupported = Dieser Browser kann keine Sicherheitsschlüssel verwenden. Wählen Sie eine andere Methode.
mfa-security-key-no-answer = Der Sicherheitsschlüssel hat nicht geantwortet ({ $error }). Versuchen Sie es erneut, oder wählen Sie eine andere Methode.
mfa-method-unusable = Diese Methode kann hier nicht verwendet werden. Wählen Sie eine andere.
mfa-no-method = Keine Anmeldemethode kann diese Anmeldung abschließen. Wenden Sie sich an Ihren Administrator.

## Sign-in
signin-title = Anmelden
signin-intro = Melden Sie sich an, um Ihr Konto, Ihre Sicherheitsinformationen und Ihre Geräte zu verwalten.
signin-username = E-Mail-Adresse oder Benutzername
signin-password = Kennwort
signin-submit = Anmelden
signin-username-missing = Geben Sie Ihre E-Mail-Adresse oder Ihren Benutzernamen ein.
signin-password-missing = Geben Sie Ihr Kennwort ein.
signin-missing = Geben Sie Ihren Benutzernamen und Ihr Kennwort ein.
signin-passkey = Mit einem Passkey anmelden
signin-passkey-no-answer = Kein Passkey hat geantwortet ({ $error }). Versuchen Sie es erneut, oder melden Sie sich mit Ihrem Kennwort an.
signin-forgot-password = Kennwort vergessen?
signin-incomplete = Die Anmeldung konnte nicht abgeschlossen werden. Versuchen Sie es erneut.
signin-start-over = Von vorn beginnen
signin-verify-title = Identität überprüfen
signin-verify-text = Ihr Kennwort war richtig. Bestätigen Sie jetzt mit einer zweiten Methode, dass Sie es sind.
signin-more-info-title = Weitere Informationen erforderlich
signin-more-info-text = Ihre Organisation verlangt eine zweite Möglichkeit, Ihre Identität zu bestätigen. Richten Sie jetzt eine ein, um die Anmeldung abzuschließen.
signin-new-password-title = Neues Kennwort wählen
signin-new-password-text = Bevor Sie fortfahren, wählen Sie ein neues Kennwort. Ihr altes Kennwort kann nicht mehr verwendet werden.
signin-new-password-reason = Sie haben eine Anmeldung gemeldet, die nicht von Ihnen stammte. Ihr Kennwort ist möglicherweise jemand anderem bekannt: Wählen Sie ein neues, um fortzufahren.
signin-set-password = Kennwort festlegen und anmelden
signin-register-app = Authenticator-App einrichten
signin-register-app-verify = Authenticator-App überprüfen
signin-register-app-scan = Scannen Sie den QR-Code mit Ihrer Authenticator-App, oder geben Sie den Schlüssel dort ein. Geben Sie dann den Code ein, den die App anzeigt.
signin-register-app-key = Schlüssel:
signin-verify-and-sign-in = Überprüfen und anmelden

## Verifying it is you again (step-up) and switching organization
reauth-title = Bestätigen Sie Ihre Identität
reauth-enter-password = Geben Sie Ihr Kennwort ein, um fortzufahren.
reauth-second-method = Bestätigen Sie jetzt mit einer zweiten Methode.
reauth-incomplete = Die Überprüfung konnte nicht abgeschlossen werden.
switch-enter-password = Geben Sie Ihr Kennwort ein, um sich bei { $organization } anzumelden. Ihre aktuelle Sitzung hier endet danach.
switch-needs-full-sign-in = Für die Anmeldung bei { $organization } ist mehr nötig, als dieses Dialogfeld abfragen kann. Melden Sie sich ab und dann erneut an.

## Forgot my password
reset-title = Kennwort zurücksetzen
reset-intro = Geben Sie Ihren Benutzernamen ein. Sie bestätigen Ihre Identität mit einer registrierten Anmeldemethode und wählen dann ein neues Kennwort.
reset-username-missing = Geben Sie Ihren Benutzernamen ein.
reset-back = Zurück zur Anmeldung
reset-prove-methods = { $count ->
    [one] Um ein neues Kennwort zu wählen, bestätigen Sie noch eine weitere registrierte Methode.
   *[other] Um ein neues Kennwort zu wählen, bestätigen Sie { $count } registrierte Methoden.
}
reset-verified = Ihre Identität ist bestätigt. Wählen Sie ein neues Kennwort: Alle Ihre Sitzungen werden abgemeldet.
reset-submit = Kennwort zurücksetzen
reset-done = Ihr Kennwort wurde zurückgesetzt, und Sie wurden überall abgemeldet. Melden Sie sich mit Ihrem neuen Kennwort an.
reset-no-method = Keine Ihrer Anmeldemethoden kann das Kennwort zurücksetzen. Wenden Sie sich an den Helpdesk Ihrer Organisation.

## Security info
security-title = Sicherheitsinformationen
security-default = Standard
security-phone-unavailable-badge = Codes können derzeit nicht gesendet werden
security-delivery-sms-short = SMS
security-delivery-voice-short = Anruf
security-codes-left = noch { $count }
security-codes-left-label = Verbleibende Wiederherstellungscodes
security-codes-used-up = Sie haben alle Wiederherstellungscodes verbraucht. Erstellen Sie neue (Anmeldemethode hinzufügen, Wiederherstellungscodes).
security-codes-few = { $count ->
    [one] Nur noch { $count } Wiederherstellungscode übrig. Erstellen Sie neue, bevor er aufgebraucht ist (Anmeldemethode hinzufügen, Wiederherstellungscodes).
   *[other] Nur noch { $count } Wiederherstellungscodes übrig. Erstellen Sie neue, bevor sie aufgebraucht sind (Anmeldemethode hinzufügen, Wiederherstellungscodes).
}
security-key-provider = Anbieter: { $provider }
security-key-provider-unknown = Anbieter unbekannt
security-key-passwordless = Meldet Sie ohne Kennwort an
security-key-second-step-only = Nur als zweiter Schritt: Der Schlüssel wurde ohne eigenen Passkey registriert und kann Sie daher nicht allein anmelden. Registrieren Sie ihn erneut, um ihn ohne Kennwort zu verwenden.
security-copy = Kopieren
security-copied = Kopiert.
security-copy-refused = Kopieren ist hier nicht erlaubt. Markieren Sie stattdessen den Text.
security-rename-named = { $method } umbenennen
security-renamed = { $method } heißt jetzt { $name }.
security-name = Name
security-name-hint = Hilft Ihnen, Ihre Methoden zu unterscheiden.
security-name-missing = Geben Sie einen Namen ein.
security-name-missing-field = Geben Sie einen Namen ein (höchstens 64 Zeichen).
security-remove = Entfernen
security-remove-named = { $method } entfernen
security-remove-title = { $kind ->
    [authenticatorApp] Authenticator-App entfernen?
    [mobile] Mobiltelefon entfernen?
    [alternateMobile] Alternatives Mobiltelefon entfernen?
    [office] Bürotelefon entfernen?
    [phone] Telefon entfernen?
    [email] E-Mail-Adresse entfernen?
    [securityKey] Sicherheitsschlüssel oder Passkey entfernen?
    [appPassword] App-Kennwort entfernen?
    [recoveryCodes] Wiederherstellungscodes entfernen?
   *[other] Diese Anmeldemethode entfernen?
}
security-remove-message = Sie können { $method } dann nicht mehr zur Anmeldung verwenden.
security-removed = { $method } wurde entfernt.
security-added-on = Hinzugefügt
security-last-used = Zuletzt verwendet
security-not-used = Noch nicht verwendet
security-default-method = Standard-Anmeldemethode
security-change-default = Standard ändern
security-default-changed = Die Standard-Anmeldemethode wurde geändert.
security-mfa-required = Ihre Organisation verlangt eine zweite Anmeldemethode. Fügen Sie unten eine hinzu.
security-required-by-organization = Von Ihrer Organisation verlangt
security-no-methods = Sie haben außer Ihrem Kennwort noch keine Anmeldemethoden.
security-method-to-add = Hinzuzufügende Methode
security-method-unavailable = { $method } (nicht verfügbar)
security-add = Hinzufügen
security-add-method = Anmeldemethode hinzufügen
security-method-added = { $method } wurde hinzugefügt.
security-add-app = Authenticator-App hinzufügen
security-add-app-install = Installieren Sie eine Authenticator-App auf Ihrem Telefon (zum Beispiel Microsoft Authenticator), und fahren Sie dann fort.
security-app-scan = Scannen Sie diesen QR-Code mit der App:
security-app-qr-alt = QR-Code, um Ihr Konto einer Authenticator-App hinzuzufügen
security-app-enter-key-instead = Fügen Sie in der App ein Konto hinzu, und wählen Sie die Eingabe eines Schlüssels.
security-app-key-or = Oder geben Sie diesen Schlüssel in der App ein:
security-app-key = Geben Sie diesen Schlüssel in der App ein:
security-app-open = In einer Authenticator-App auf diesem Gerät öffnen
security-app-enter-code = Geben Sie den 6-stelligen Code ein, den die App anzeigt:
security-app-code = Code aus der App
security-add-phone = Telefon hinzufügen
security-phone-unavailable = Hier können keine Codes an Telefone gesendet werden: Es ist kein SMS- oder Sprachanbieter eingerichtet. Fügen Sie stattdessen eine Authenticator-App, eine E-Mail-Adresse oder einen Sicherheitsschlüssel hinzu.
security-phone-type = Telefontyp
security-phone-number = Telefonnummer
security-delivery = Codes senden per
security-delivery-sms = Textnachricht (SMS)
security-delivery-voice = Anruf
security-add-email = E-Mail-Adresse hinzufügen
security-email-address = E-Mail-Adresse
security-add-key = Sicherheitsschlüssel oder Passkey hinzufügen
security-key-unsupported = Dieser Browser kann keine Sicherheitsschlüssel registrieren.
security-key-default-name = Sicherheitsschlüssel
security-key-register = Schlüssel registrieren
security-key-not-registered = Der Sicherheitsschlüssel wurde nicht registriert ({ $error }). Versuchen Sie es erneut.
security-key-added = Der Sicherheitsschlüssel wurde hinzugefügt.
security-add-app-password = App-Kennwort erstellen
security-app-password-intro = Mit App-Kennwörtern können sich ältere Apps anmelden, die keine zweite Methode abfragen können. Verwenden Sie eines pro App.
security-app-password-limits = Eine mit einem App-Kennwort angemeldete App kann Ihr Konto lesen, aber nie ändern: keine neuen Anmeldemethoden, Kennwörter, Exporte oder Abmeldungen. Wenn Sie Ihr Kennwort ändern oder eine Anmeldung als nicht von Ihnen melden, werden alle App-Kennwörter entfernt.
security-app-password-name-hint = Zum Beispiel die App, in der Sie es verwenden.
security-create = Erstellen
security-app-password-new = Ihr neues App-Kennwort
security-app-password-copy = Kopieren Sie dieses Kennwort jetzt. Es wird nicht noch einmal angezeigt.
security-app-password-created = Das App-Kennwort wurde erstellt.
security-done = Fertig
security-codes-generate-title = Wiederherstellungscodes erstellen
security-codes-intro = Mit Wiederherstellungscodes können Sie sich anmelden, wenn Sie Ihre anderen Methoden nicht verwenden können. Neue Codes ersetzen alle früheren.
security-codes-generate = Codes erstellen
security-codes-yours = Ihre Wiederherstellungscodes
security-codes-save = Bewahren Sie diese Codes sicher auf. Sie werden nicht noch einmal angezeigt, und jeder funktioniert nur einmal.
security-codes-generated = Die Wiederherstellungscodes wurden erstellt.
request-failed = Die Anfrage ist fehlgeschlagen (HTTP { $status }).

organizations-home-cannot-leave = Dies ist Ihre Heimorganisation: Ihr Konto gehört zu ihr, daher können Sie sie nicht verlassen.
organizations-cannot-leave = Sie können diese Organisation nicht verlassen.
sign-ins-risk-level-low = niedrig
sign-ins-risk-level-medium = mittel
sign-ins-risk-level-high = hoch

## Why a sign-in failed (audit's failure reason codes, `sign-ins-failure-<code>`)
sign-ins-failure-unknown-user = Kein Konto hat diesen Benutzernamen.
sign-ins-failure-invalid-password = Das Kennwort war falsch.
sign-ins-failure-account-disabled = Das Konto ist deaktiviert.
sign-ins-failure-throttled = Nach zu vielen Fehlversuchen vorübergehend gesperrt.
sign-ins-failure-second-factor-failed = Das Kennwort war richtig, der zweite Faktor jedoch nicht.
sign-ins-failure-mfa-challenge-expired = Der zweite Schritt wurde nicht rechtzeitig abgeschlossen.
sign-ins-failure-second-factor-replayed = Ein bereits verwendeter Code wurde erneut versucht.
sign-ins-failure-mfa-too-many-attempts = Zu viele falsche Versuche beim zweiten Faktor.
sign-ins-failure-not-a-member = Das Kennwort war richtig, aber das Konto ist kein Mitglied dieser Organisation.
sign-ins-failure-password-change-required = Die Anmeldedaten waren richtig, aber zuerst musste ein neues Kennwort gewählt werden.
sign-ins-failure-device-disabled = Die Anmeldung kam von einem deaktivierten Gerät.
sign-ins-failure-mfa-registration-required = Das Kennwort war richtig, aber die Organisation verlangt einen zweiten Faktor, der zuerst registriert werden musste.
sign-ins-failure-passkey-not-recognized = Es wurde ein Passkey angeboten, den dieses Konto nicht hat.
sign-ins-failure-passkey-failed = Die Antwort des Passkeys konnte nicht überprüft werden.
sign-ins-failure-passkey-challenge-invalid = Die Anmeldung mit Passkey wurde nicht rechtzeitig abgeschlossen oder zweimal beantwortet.
