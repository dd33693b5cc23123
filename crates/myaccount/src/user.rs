//! `myaccount user disable|enable --username NAME`: the operator disables an account (its
//! sign-ins are refused and every session of it ends) or enables it again, in identity's
//! database (`IDENTITY_DATABASE_URL`, as the service reads it). Identity's outbox publishes
//! `user_disabled` / `user_enabled` from there, as for an administrator's DisableUser.
//!
//! `myaccount user rename --username NAME --new-username NEW --new-email NEW`: the operator
//! changes an account's user principal name or email address, or both (as an administrator's
//! ChangeUserIdentifiers does), and identity publishes `identifiers_changed`.

use anyhow::Context;
use platform::config::Env;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Disable an account: its sign-ins are refused and its sessions end.
    Disable {
        /// The account's user principal name (what the person signs in with).
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Change an account's user principal name or email address, or both. The old name no
    /// longer signs in; sessions go on.
    #[command(group(clap::ArgGroup::new("new").required(true).multiple(true).args(["new_username", "new_email"])))]
    Rename {
        /// The account's user principal name now.
        #[arg(long)]
        username: String,
        /// The user principal name it signs in with from now on.
        #[arg(long)]
        new_username: Option<String>,
        /// Its new email address.
        #[arg(long)]
        new_email: Option<String>,
    },
}

pub async fn run(env: &Env, command: UserCommand) -> anyhow::Result<()> {
    let (username, enabled) = match command {
        UserCommand::Disable { username } => (username, false),
        UserCommand::Enable { username } => (username, true),
        UserCommand::Rename {
            username,
            new_username,
            new_email,
        } => {
            return rename(
                env,
                &username,
                new_username.as_deref().unwrap_or_default(),
                new_email.as_deref().unwrap_or_default(),
            )
            .await;
        }
    };
    let username = username.as_str();
    let pool = crate::operate::database(env, &myaccount_identity::SPEC).await?;
    let change = myaccount_identity::account_status::set_enabled_by_name(&pool, username, enabled)
        .await
        .map_err(in_options)
        .with_context(|| format!("{} {username}", if enabled { "enabling" } else { "disabling" }))?;
    let status = if enabled { "enabled" } else { "disabled" };
    if change.changed {
        println!("{username} {status} (user id {})", change.user_id);
    } else {
        println!(
            "{username} was already {status}; nothing changed (user id {})",
            change.user_id
        );
    }
    Ok(())
}

/// `user rename`: prints each identifier that changed, old and new.
async fn rename(env: &Env, username: &str, new_username: &str, new_email: &str) -> anyhow::Result<()> {
    let pool = crate::operate::database(env, &myaccount_identity::SPEC).await?;
    let change = myaccount_identity::identifiers::change_identifiers_by_name(&pool, username, new_username, new_email)
        .await
        .map_err(in_options)
        .with_context(|| format!("renaming {username}"))?;
    for line in rename_report(&change) {
        println!("{line}");
    }
    Ok(())
}

/// What `user rename` prints: one line per identifier that changed, or that nothing did.
fn rename_report(change: &myaccount_identity::identifiers::IdentifiersChange) -> Vec<String> {
    let (before, after) = (&change.previous, &change.current);
    if !change.changed {
        return vec![format!(
            "{} already has user name {} and email {:?}; nothing changed (user id {})",
            before.user_principal_name, after.user_principal_name, after.mail, change.user_id
        )];
    }
    let mut lines = Vec::new();
    if before.user_principal_name != after.user_principal_name {
        lines.push(format!(
            "user name: {} -> {}",
            before.user_principal_name, after.user_principal_name
        ));
    }
    if before.mail != after.mail {
        let old = if before.mail.is_empty() {
            "(none)"
        } else {
            before.mail.as_str()
        };
        lines.push(format!("email: {old} -> {}", after.mail));
    }
    lines.push(format!("(user id {})", change.user_id));
    lines
}

/// Identity's field violations in the command's own words: the option to fix.
fn in_options(e: myaccount_identity::error::IdentityError) -> anyhow::Error {
    match e {
        myaccount_identity::error::IdentityError::Invalid(violations) => anyhow::anyhow!(
            "{}",
            violations
                .iter()
                .map(|v| format!("--{}: {}", option_of(&v.field), v.description))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::Error::from(other),
    }
}

/// The command-line option of one of identity's request fields.
fn option_of(field: &str) -> &str {
    match field {
        myaccount_identity::domain::IdentifierChange::NEW_USER_PRINCIPAL_NAME => "new-username",
        myaccount_identity::domain::IdentifierChange::NEW_EMAIL => "new-email",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use myaccount_identity::identifiers::IdentifiersChange;
    use myaccount_identity::store::Identifiers;

    fn change(old: (&str, &str), new: (&str, &str), changed: bool) -> IdentifiersChange {
        let identifiers = |(upn, mail): (&str, &str)| Identifiers {
            user_principal_name: upn.into(),
            mail: mail.into(),
        };
        IdentifiersChange {
            user_id: uuid::Uuid::nil(),
            previous: identifiers(old),
            current: identifiers(new),
            changed,
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_rename_prints_each_identifier_that_changed() {
        let both = rename_report(&change(("a@x.example", ""), ("b@x.example", "b@mail.example"), true));
        assert_eq!(both[0], "user name: a@x.example -> b@x.example");
        assert_eq!(both[1], "email: (none) -> b@mail.example");
        let email = rename_report(&change(
            ("a@x.example", "a@m.example"),
            ("a@x.example", "c@m.example"),
            true,
        ));
        assert_eq!(email[0], "email: a@m.example -> c@m.example");
        assert_eq!(email.len(), 2);
        let nothing = rename_report(&change(("a@x.example", ""), ("a@x.example", ""), false));
        assert!(nothing[0].contains("nothing changed"), "{nothing:?}");
    }

    #[test]
    fn violations_name_the_options_to_fix() {
        let error = in_options(myaccount_identity::error::IdentityError::Invalid(vec![
            platform::error::FieldViolation {
                field: "new_email".into(),
                description: "must look like name@domain.example".into(),
                reason: String::new(),
            },
        ]));
        assert_eq!(error.to_string(), "--new-email: must look like name@domain.example");
    }
}
