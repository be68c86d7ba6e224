//! The time requests are judged at: the system clock, or in tests a clock
//! set by hand (a grant that ends at midnight, a token that expires).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};

/// The current instant for access decisions and token expiry.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// A clock that stays at `at` until [`Clock::set`].
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock { fixed: Some(Arc::new(Mutex::new(at))) }
    }

    /// Moves a fixed clock (and every copy of it) to `at`; a system clock
    /// cannot be moved.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.lock().expect("clock") = at;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(fixed) => *fixed.lock().expect("clock"),
            None => Utc::now(),
        }
    }

    /// Today in the Netherlands: the date grants are judged on.
    pub fn today_in_amsterdam(&self) -> NaiveDate {
        self.now().with_timezone(&chrono_tz::Europe::Amsterdam).date_naive()
    }
}
