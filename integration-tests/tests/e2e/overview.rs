use std::time::{Duration, Instant};

use myaccount_integration_tests::TestSystem;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn overview_shows_profile_and_recent_sign_ins() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    for _ in 0..6 {
        system.sign_in_ok(&user).await;
    }
    let session = system.sign_in_ok(&user).await;
    system.wait_for_sign_ins(&session.access_token, 7).await;

    // Each section has its own short deadline, which a loaded machine may miss once: ask until
    // both sections answer, then check what they say.
    let answered = |overview: &Value| {
        overview["profile"]["userPrincipalName"].is_string() && overview["recentSignIns"]["items"].is_array()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let overview = loop {
        let overview: Value = system
            .get("/api/v1/me", &session.access_token)
            .await
            .json()
            .await
            .expect("json");
        if answered(&overview) {
            break overview;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a section stayed unavailable for 20 s: {overview}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(overview["profile"]["userPrincipalName"], user.upn.as_str());
    assert_eq!(overview["recentSignIns"]["items"].as_array().expect("items").len(), 5);
}

#[tokio::test]
async fn a_stopped_service_makes_its_section_unavailable_not_the_page() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    system.stop_audit().await;

    let started = Instant::now();
    let response = system.get("/api/v1/me", &session.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let overview: Value = response.json().await.expect("json");
    // The system's request timeout is 10 s and a section's deadline 300 ms: an answer before the
    // timeout is one the section deadline gave, with room for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "answered within the section deadline, not the request timeout"
    );
    assert_eq!(overview["recentSignIns"]["status"], "unavailable");
    assert_eq!(overview["profile"]["userPrincipalName"], user.upn.as_str());
}
