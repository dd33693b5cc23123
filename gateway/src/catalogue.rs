//! What each service keeps about a person, remembered for as long as the service allows.
//!
//! The privacy page shows every service's `DescribeMyPersonalData` answer. Most services answer
//! the same for everyone and say so (`cache-control: max-age` in the response metadata), so the
//! page asks them once per max-age instead of on every view; an answer without a max-age (audit's
//! depends on the organization's retention) is asked for every time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

use myaccount_proto::privacy::v1::{PersonalDataCategory, PersonalDataDescription};

#[derive(Default)]
pub struct PersonalDataCatalogue {
    remembered: Mutex<HashMap<&'static str, (Instant, Vec<PersonalDataCategory>)>>,
}

impl PersonalDataCatalogue {
    /// `service`'s categories: remembered ones while they are fresh, otherwise `ask`'s answer
    /// (remembered when it says for how long).
    pub async fn describe<F, Fut>(
        &self,
        service: &'static str,
        ask: F,
    ) -> Result<Vec<PersonalDataCategory>, tonic::Status>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<tonic::Response<PersonalDataDescription>, tonic::Status>>,
    {
        if let Some(categories) = self.fresh(service) {
            return Ok(categories);
        }
        let response = ask().await?;
        let max_age = platform::personal_data::max_age(&response);
        let categories = response.into_inner().categories;
        if let Some(max_age) = max_age
            && let Ok(mut remembered) = self.remembered.lock()
        {
            remembered.insert(service, (Instant::now() + max_age, categories.clone()));
        }
        Ok(categories)
    }

    fn fresh(&self, service: &'static str) -> Option<Vec<PersonalDataCategory>> {
        let remembered = self.remembered.lock().ok()?;
        let (until, categories) = remembered.get(service)?;
        (Instant::now() < *until).then(|| categories.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn answer(max_age: Option<&str>) -> Result<tonic::Response<PersonalDataDescription>, tonic::Status> {
        let mut response = tonic::Response::new(PersonalDataDescription {
            categories: vec![PersonalDataCategory {
                name: "profile".into(),
                ..Default::default()
            }],
        });
        if let Some(value) = max_age {
            response
                .metadata_mut()
                .insert("cache-control", value.parse().expect("metadata"));
        }
        Ok(response)
    }

    #[tokio::test]
    async fn an_answer_with_a_max_age_is_asked_for_once_and_one_without_every_time() {
        let catalogue = PersonalDataCatalogue::default();
        let asked = AtomicUsize::new(0);
        for _ in 0..3 {
            let categories = catalogue
                .describe("identity", || async {
                    asked.fetch_add(1, Ordering::SeqCst);
                    answer(Some("max-age=300"))
                })
                .await
                .expect("described");
            assert_eq!(categories.len(), 1);
        }
        assert_eq!(asked.swap(0, Ordering::SeqCst), 1, "remembered for its max-age");
        for _ in 0..3 {
            catalogue
                .describe("audit", || async {
                    asked.fetch_add(1, Ordering::SeqCst);
                    answer(None)
                })
                .await
                .expect("described");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 3, "no max-age, asked every time");
    }

    #[tokio::test]
    async fn a_refusal_is_not_remembered() {
        let catalogue = PersonalDataCatalogue::default();
        let refused = catalogue
            .describe("devices", || async { Err(tonic::Status::unauthenticated("expired")) })
            .await;
        assert!(refused.is_err());
        let categories = catalogue
            .describe("devices", || async { answer(Some("max-age=300")) })
            .await
            .expect("asked again");
        assert_eq!(categories.len(), 1);
    }
}
