use myaccount_identity::security_info::SecondFactorSettings;
use myaccount_identity::{Application, Settings};
use platform::config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("info,sqlx=warn");
    let env = Env::from_process();
    let settings = Settings::from_env(&env)?;
    let second_factors = SecondFactorSettings::from_env(&env)?;
    Application::build_with_second_factors(settings, second_factors)
        .await?
        .run_until_stopped()
        .await?;
    Ok(())
}
