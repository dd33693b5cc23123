//! What a service keeps about a person, as it answers `DescribeMyPersonalData`: each service
//! lists its own categories in its domain, and this turns the list into the shared message.

use std::time::Duration;

use myaccount_proto::privacy::v1 as pb;

use crate::cache_control::Reuse;

/// Which of the person's organizations a category is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldFor {
    /// The home organization: the account and everything hanging off it.
    HomeOrganization,
    /// Each guest organization: only what concerns that organization.
    GuestOrganization,
}

/// One kind of data kept about a person, in the person's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCategory {
    pub name: String,
    pub retention: String,
    pub held_for: HeldFor,
}

impl DataCategory {
    pub fn new(name: impl Into<String>, retention: impl Into<String>, held_for: HeldFor) -> Self {
        Self {
            name: name.into(),
            retention: retention.into(),
            held_for,
        }
    }
}

/// How long a caller may reuse an answer that is the same for every person
/// ([`crate::cache_control::Reuse::Everyone`]).
pub const SAME_FOR_EVERYONE_MAX_AGE_SECS: u64 = 300;

/// Every service's `DescribeMyPersonalData` when what it keeps does not depend on the person:
/// to any signed-in caller, the categories it keeps, marked reusable by everyone for
/// [`SAME_FOR_EVERYONE_MAX_AGE_SECS`].
pub fn answer<T>(
    request: &tonic::Request<T>,
    categories: impl IntoIterator<Item = DataCategory>,
) -> Result<tonic::Response<pb::PersonalDataDescription>, tonic::Status> {
    crate::auth::Caller::of(request)?;
    let mut response = tonic::Response::new(description(categories));
    crate::cache_control::mark(
        &mut response,
        Reuse::Everyone(Duration::from_secs(SAME_FOR_EVERYONE_MAX_AGE_SECS)),
    );
    Ok(response)
}

/// How long the asking person may reuse an answer about their own account's policies
/// (retention, whether they may delete it): a change an admin makes shows within this.
pub const PER_PERSON_MAX_AGE_SECS: u64 = 30;

/// `message` marked reusable by the asking person for [`PER_PERSON_MAX_AGE_SECS`].
pub fn private_answer<T>(message: T) -> tonic::Response<T> {
    let mut response = tonic::Response::new(message);
    crate::cache_control::mark(
        &mut response,
        Reuse::Person(Duration::from_secs(PER_PERSON_MAX_AGE_SECS)),
    );
    response
}

/// The answer of `DescribeMyPersonalData`.
pub fn description(categories: impl IntoIterator<Item = DataCategory>) -> pb::PersonalDataDescription {
    pb::PersonalDataDescription {
        categories: categories
            .into_iter()
            .map(|c| pb::PersonalDataCategory {
                name: c.name,
                retention: c.retention,
                held_for: match c.held_for {
                    HeldFor::HomeOrganization => pb::DataHolder::HomeOrganization,
                    HeldFor::GuestOrganization => pb::DataHolder::GuestOrganization,
                } as i32,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_category_keeps_its_words_and_its_holder() {
        let answer = description([
            DataCategory::new("sessions", "30 days after they end", HeldFor::HomeOrganization),
            DataCategory::new("sign-ins to this organization", "90 days", HeldFor::GuestOrganization),
        ]);
        let held: Vec<(&str, &str, pb::DataHolder)> = answer
            .categories
            .iter()
            .map(|c| (c.name.as_str(), c.retention.as_str(), c.held_for()))
            .collect();
        assert_eq!(
            held,
            [
                ("sessions", "30 days after they end", pb::DataHolder::HomeOrganization),
                (
                    "sign-ins to this organization",
                    "90 days",
                    pb::DataHolder::GuestOrganization
                ),
            ]
        );
    }
}
