//! The sign-in interrupted by a required password change. After the person reports a sign-in as
//! not theirs, their password may be known to someone else: the next sign-in proves the password
//! and, when they have one, a second factor, and then must choose a new password before a
//! session opens. The interrupted attempt is recorded as `password_change_required`; the
//! finished one as a success.

use chrono::Utc;
use platform::error::{FieldViolation, Violations};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::attempt::{self, Ended};
use crate::context::{Account, Context, validate_client};
use crate::domain::{
    ChangeTicket, ClientInfo, FailureReason, IssuedTokens, SignInAttempt, SignInOutcome, Throttle, Verdict,
    check_password,
};
use crate::error::IdentityError;
use crate::events;
use crate::issuing::open_session;
use crate::passwords::{hash_password, verify_password};
use crate::store::{self, NewPasswordChangeTicket};

/// How long the person has to choose the new password.
const TICKET_TTL_MINUTES: i64 = 10;

/// What the person is told about why.
pub const REASON: &str = "you reported a sign-in that was not you, so your password may be known to someone else: \
     choose a new one to continue";

/// Stops a proven `attempt` short of a session: issues a change ticket that remembers who
/// signed in, how and from where.
pub async fn interrupt(
    tx: &mut PgConnection,
    account: &Account,
    attempt: &SignInAttempt,
) -> Result<Ended<SignInOutcome>, IdentityError> {
    // Random (v4): the id is the credential of the last step.
    let ticket_id = Uuid::new_v4();
    let now = attempt.time;
    let expires_at = now + chrono::Duration::minutes(TICKET_TTL_MINUTES);
    let client = &attempt.client;
    store::insert_password_change_ticket(
        tx,
        &NewPasswordChangeTicket {
            id: ticket_id,
            user_id: account.id,
            organization_id: account.organization_id,
            amr: &attempt.amr,
            typed_user_principal_name: &attempt.typed_user_principal_name,
            ip_address: &client.ip_address,
            user_agent: &client.user_agent,
            device_id: &client.device_id,
            app_id: &client.app_id,
            correlation_id: &client.correlation_id,
            now,
            expires_at,
        },
    )
    .await?;
    tracing::info!(user_id = %account.id, "sign-in interrupted: a new password is required");
    Ok(Ended::answered(
        Verdict::StoppedAfterProof(FailureReason::PasswordChangeRequired),
        SignInOutcome::PasswordChangeRequired(ChangeTicket { ticket_id, expires_at }),
    ))
}

/// The last step: sets the new password and opens the session the sign-in was for, with the
/// methods proven before the interruption.
pub async fn set_required_password(
    ctx: &Context,
    change_ticket: &str,
    new_password: &str,
    client: &ClientInfo,
) -> Result<IssuedTokens, IdentityError> {
    let mut v = Violations::new();
    let ticket_id = Uuid::parse_str(change_ticket.trim()).ok();
    if ticket_id.is_none() {
        v.add("change_ticket", "must be the change ticket from the sign-in answer");
    }
    v.required("new_password", new_password);
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    let ticket_id = ticket_id.ok_or(IdentityError::ChangeTicketInvalid)?;

    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    let ticket = store::password_change_ticket_for_update(&mut tx, ticket_id)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or(IdentityError::ChangeTicketInvalid)?;
    let credentials = store::account(&mut tx, ticket.user_id)
        .await?
        .ok_or(IdentityError::ChangeTicketInvalid)?;
    if !credentials.enabled {
        return Err(IdentityError::AccountDisabled);
    }
    let person = store::password_of(&mut tx, ticket.user_id)
        .await?
        .ok_or(IdentityError::ChangeTicketInvalid)?;
    let mut v = Violations::new();
    let inputs = [
        person.user_principal_name.as_str(),
        person.display_name.as_str(),
        person.mail.as_str(),
    ];
    check_password("new_password", new_password, &inputs, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    if verify_password(new_password.to_owned(), person.password_hash.clone()).await? {
        return Err(IdentityError::Invalid(vec![FieldViolation {
            field: "new_password".into(),
            description: "must differ from the password that may be known to someone else".into(),
            reason: String::new(),
        }]));
    }

    let hash = hash_password(new_password.to_owned()).await?;
    store::set_password(&mut tx, ticket.user_id, &hash, now).await?;
    store::spend_password_change_ticket(&mut tx, ticket.id, now).await?;
    events::password_changed(&mut tx, ticket.user_id, None, 0, Uuid::now_v7(), now).await?;
    let account = Account::in_organization(&credentials, ticket.organization_id);
    // The session takes the client of the interrupted sign-in, where the person proved who
    // they are; the address of this last request is only the fallback.
    let session_client = ClientInfo {
        ip_address: non_empty_or(&ticket.ip_address, &client.ip_address),
        user_agent: non_empty_or(&ticket.user_agent, &client.user_agent),
        device_id: ticket.device_id.clone(),
        app_id: ticket.app_id.clone(),
        correlation_id: ticket.correlation_id.clone(),
        location: client.location.clone(),
    };
    // Nothing left to guess here: the ticket is the credential, so no failure counters.
    let mut attempt = SignInAttempt::new(
        now,
        &ticket.typed_user_principal_name,
        "password_change",
        session_client,
        Throttle::default(),
    );
    attempt.user_id = Some(ticket.user_id);
    attempt.organization_id = account.organization_id;
    attempt.amr = ticket.amr.clone();
    let (session_id, tokens) = open_session(ctx, &mut tx, &account, &attempt.amr, &attempt.client, now).await?;
    let tokens = attempt::finish(
        tx,
        &attempt,
        Ended::answered(Verdict::SignedIn { session_id }, tokens),
        None,
    )
    .await?;
    tracing::info!(user_id = %ticket.user_id, "required password set; signed in");
    Ok(tokens)
}

fn non_empty_or(first: &str, fallback: &str) -> String {
    if first.is_empty() { fallback } else { first }.to_owned()
}
