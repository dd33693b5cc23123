//! Service answers the gateway gives again, for as long as the service said they may be reused
//! (`platform::cache_control`): answers that are the same for everyone (what each service
//! keeps about people) to anyone signed in, and a person's own answers (their retention, whether
//! they may delete their account) only to the same access token. Nothing else is remembered: an
//! answer without a `max-age`, and every refusal, are asked for every time.
//!
//! Each page that uses remembered answers also makes at least one live call with the token, so
//! a revoked or expired token still fails the page at once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

use platform::cache_control::{Reuse, reuse_of};

/// How many answers one kind of question keeps. Past this, expired ones are dropped, and if
/// all are still fresh the memory starts over (per-person answers grow with the people asking).
const REMEMBERED_ANSWERS: usize = 10_000;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Everyone(&'static str),
    Person(&'static str, Box<str>),
}

/// Answers to one kind of question, by who may be given them.
pub struct Remembered<T> {
    answers: Mutex<HashMap<Key, (Instant, T)>>,
}

impl<T> Default for Remembered<T> {
    fn default() -> Self {
        Self {
            answers: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Remembered<T> {
    /// The answer to `question` for the holder of `token`: a remembered one while it is fresh,
    /// otherwise `ask`'s (remembered when its `cache-control` allows).
    pub async fn answer<F, Fut>(&self, question: &'static str, token: &str, ask: F) -> Result<T, tonic::Status>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        if let Some(answer) = self.fresh(question, token) {
            return Ok(answer);
        }
        let response = ask().await?;
        let reuse = reuse_of(&response);
        let answer = response.into_inner();
        if let Some(reuse) = reuse {
            let key = match reuse {
                Reuse::Everyone(_) => Key::Everyone(question),
                Reuse::Person(_) => Key::Person(question, token.into()),
            };
            self.remember(key, Instant::now() + reuse.max_age(), answer.clone());
        }
        Ok(answer)
    }

    fn fresh(&self, question: &'static str, token: &str) -> Option<T> {
        let answers = self.answers.lock().ok()?;
        let now = Instant::now();
        [Key::Everyone(question), Key::Person(question, token.into())]
            .iter()
            .find_map(|key| answers.get(key).filter(|(until, _)| now < *until))
            .map(|(_, answer)| answer.clone())
    }

    fn remember(&self, key: Key, until: Instant, answer: T) {
        let Ok(mut answers) = self.answers.lock() else {
            return;
        };
        if answers.len() >= REMEMBERED_ANSWERS {
            let now = Instant::now();
            answers.retain(|_, (until, _)| now < *until);
            if answers.len() >= REMEMBERED_ANSWERS {
                answers.clear();
            }
        }
        answers.insert(key, (until, answer));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use platform::cache_control::mark;

    use super::*;

    fn answer(value: u32, reuse: Option<Reuse>) -> Result<tonic::Response<u32>, tonic::Status> {
        let mut response = tonic::Response::new(value);
        if let Some(reuse) = reuse {
            mark(&mut response, reuse);
        }
        Ok(response)
    }

    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    #[tokio::test]
    async fn an_answer_for_everyone_is_asked_once_and_one_without_max_age_every_time() {
        let remembered = Remembered::default();
        let asked = AtomicUsize::new(0);
        for token in ["alice", "bob", "carol"] {
            let value = remembered
                .answer("identity", token, || async {
                    asked.fetch_add(1, Ordering::SeqCst);
                    answer(1, Some(Reuse::Everyone(FIVE_MINUTES)))
                })
                .await
                .expect("answered");
            assert_eq!(value, 1);
        }
        assert_eq!(asked.swap(0, Ordering::SeqCst), 1, "remembered for everyone");
        for _ in 0..3 {
            remembered
                .answer("audit", "alice", || async {
                    asked.fetch_add(1, Ordering::SeqCst);
                    answer(2, None)
                })
                .await
                .expect("answered");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 3, "no max-age, asked every time");
    }

    #[tokio::test]
    async fn a_private_answer_is_given_again_only_to_the_same_token() {
        let remembered = Remembered::default();
        let asked = AtomicUsize::new(0);
        let ask = |value| {
            let asked = &asked;
            move || async move {
                asked.fetch_add(1, Ordering::SeqCst);
                answer(value, Some(Reuse::Person(FIVE_MINUTES)))
            }
        };
        assert_eq!(remembered.answer("retention", "alice", ask(30)).await.ok(), Some(30));
        assert_eq!(remembered.answer("retention", "alice", ask(99)).await.ok(), Some(30));
        assert_eq!(
            remembered.answer("retention", "bob", ask(90)).await.ok(),
            Some(90),
            "bob's own"
        );
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refusal_is_not_remembered_and_an_expired_answer_is_asked_again() {
        let remembered = Remembered::default();
        let refused = remembered
            .answer("devices", "alice", || async {
                Err::<tonic::Response<u32>, _>(tonic::Status::unauthenticated("expired"))
            })
            .await;
        assert!(refused.is_err());
        let short = Some(Reuse::Person(Duration::ZERO));
        assert_eq!(
            remembered
                .answer("devices", "alice", || async { answer(1, short) })
                .await
                .ok(),
            Some(1)
        );
        assert_eq!(
            remembered
                .answer("devices", "alice", || async { answer(2, short) })
                .await
                .ok(),
            Some(2),
            "max-age=0 is stale at once"
        );
    }
}
