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
