use myaccount_signals::{Application, Settings};
use platform::config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("info,sqlx=warn");
    let settings = Settings::from_env(&Env::from_process())?;
    Application::build(settings).await?.run_until_stopped().await?;
    Ok(())
}
