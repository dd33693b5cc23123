use myaccount_identity::{Application, Settings};
use platform::config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("info,sqlx=warn");
    let env = Env::from_process();
    let settings = Settings::from_env(&env)?;
    Application::build(settings).await?.run_until_stopped().await?;
    Ok(())
}
