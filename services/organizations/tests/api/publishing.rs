use std::time::Duration;

use myaccount_proto::events::v1::{MemberJoined, OrganizationChanged};
use platform::events::{Event, Stream, headers};
use platform::testing::eventually;
use prost::Message;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_relay_publishes_organization_events_to_jetstream() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;

    eventually(Duration::from_secs(10), || async {
        app.stream_messages(Stream::Organizations).await.len() == 2
    })
    .await;

    let published = app.stream_messages(Stream::Organizations).await;
    let header = |i: usize, name: &str| published[i].headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(
        published[0].subject.as_str(),
        app.naming.subject(&OrganizationChanged::subject())
    );
    assert_eq!(
        header(0, headers::TYPE).as_deref(),
        Some("myaccount.organizations.v1.changed")
    );
    assert_eq!(header(0, headers::SOURCE).as_deref(), Some("myaccount/organizations"));
    assert_eq!(header(0, headers::SUBJECT), None, "about an organization, not a user");
    let changed = OrganizationChanged::decode(published[0].payload.clone()).expect("an OrganizationChanged");
    assert_eq!(changed.organization_id, contoso.to_string());

    assert_eq!(
        header(1, headers::TYPE).as_deref(),
        Some("myaccount.organizations.v1.member_joined")
    );
    assert_eq!(
        header(1, headers::SUBJECT),
        Some(adele.id.to_string()),
        "ce-subject is the user"
    );
    let joined = MemberJoined::decode(published[1].payload.clone()).expect("a MemberJoined");
    assert_eq!(joined.organization_id, contoso.to_string());
}
