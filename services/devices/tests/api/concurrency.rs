//! Every read path with more concurrent callers than pool connections: a request that held one
//! connection while it waited for another would stall until the acquire timeout and fail.

use platform::testing::{all_succeed_concurrently, contended_pool};

use crate::helpers::{RECOVERY_PASSWORD, spawn_app_with};

#[tokio::test]
async fn every_read_path_serves_more_callers_than_pool_connections() {
    let app = spawn_app_with(|settings| contended_pool(&mut settings.service.database)).await;
    let adele = app.new_user();
    let laptop = app.register_laptop(&adele, "Adele's laptop").await;
    let key = app
        .add_key(&adele.token, &laptop.id, RECOVERY_PASSWORD)
        .await
        .expect("a recovery key");

    all_succeed_concurrently("ListMyDevices", || app.list(&adele.token)).await;
    all_succeed_concurrently("GetMyDevice", || app.get(&adele.token, &laptop.id)).await;
    all_succeed_concurrently("ListRecoveryKeys", || app.list_keys(&adele.token, &laptop.id)).await;
    all_succeed_concurrently("RevealRecoveryKey", || {
        app.reveal(&adele.mfa_token, &laptop.id, &key.id)
    })
    .await;
    all_succeed_concurrently("ExportMyData", || app.export(&adele.token)).await;

    // The answers are the person's, not empty ones.
    let keys = app.list_keys(&adele.token, &laptop.id).await.expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
}
