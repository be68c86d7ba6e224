//! The random worlds: clients with representatives of every kind and
//! access level, grants in and out of their period, e-mail addresses
//! shared between records (one person), records of every kind the oracle
//! checks; and the principals that ask (`delivery` writes a world into
//! the gateway).
//!
//! Dates are drawn relative to the day the case runs (a grant starting
//! "tomorrow"), so that a case means the same whatever the date.

use chrono::{Days, Months, NaiveDate};
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;

/// Staff members per case (`M-{case}-{n}`).
pub const STAFF: u8 = 3;

/// The scopes a principal's token may have, any non-empty combination.
pub const SCOPES: [&str; 4] = ["patient/*.rs", "user/*.rs", "patient/Observation.rs", "user/Communication.rs"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mentor,
    Curator,
    Bewindvoerder,
    Voogd,
    OuderMetGezag,
    Gemachtigde,
    Naaste,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Volledig,
    Noodzakelijk,
    Beperkt,
    Financieel,
    Geen,
}

/// A day relative to today; `Open` is no date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    Open,
    LongAgo,
    Yesterday,
    Today,
    Tomorrow,
    Later,
}

/// When a client was born, relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Birth {
    /// Years and days ago.
    Ago(u32, u64),
    /// 18 years ago today: parental authority ended today.
    EighteenToday,
    /// Turns 18 tomorrow: parental authority holds for one more day.
    EighteenTomorrow,
}

#[derive(Debug, Clone)]
pub struct Representative {
    pub kind: Kind,
    pub level: Level,
    pub from: Day,
    pub until: Day,
    /// Which of the case's people's addresses, in which spelling.
    pub email: Option<(u8, u8)>,
    pub may_write: bool,
}

/// Who writes, sends or receives. Indices are taken modulo what exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Staff(u8),
    /// A staff recipient without a number: the client's eerstverantwoordelijke.
    Responsible,
    Client,
    Representative(u8),
}

#[derive(Debug, Clone)]
pub struct Client {
    pub birth: Birth,
    /// The eerstverantwoordelijke (a CareTeam referring to them).
    pub responsible: Option<u8>,
    pub representatives: Vec<Representative>,
    /// Author and whether the line is for the portal.
    pub reports: Vec<(Party, bool)>,
    /// The staff member who measured.
    pub measurements: Vec<u8>,
    pub invoices: u8,
    /// Sender and recipient.
    pub messages: Vec<(Party, Party)>,
}

/// A token: a client (`representative: None`) or one of their
/// representatives, with a non-empty set of [`SCOPES`] (bits).
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub client: u8,
    pub representative: Option<u8>,
    pub scopes: u8,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub clients: Vec<Client>,
    pub principals: Vec<Principal>,
}

/// A party as the delivery writes it: indices resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resolved {
    Staff(usize),
    Client,
    Representative(usize),
}

impl Client {
    /// What `party` is in this client's records.
    pub fn resolve(&self, party: Party) -> Resolved {
        match party {
            Party::Staff(s) => Resolved::Staff(usize::from(s % STAFF)),
            Party::Responsible => Resolved::Staff(usize::from(self.responsible.unwrap_or(0) % STAFF)),
            Party::Client => Resolved::Client,
            Party::Representative(_) if self.representatives.is_empty() => Resolved::Client,
            Party::Representative(r) => Resolved::Representative(usize::from(r) % self.representatives.len()),
        }
    }
}

impl Case {
    /// The principal's client and representative, indices resolved.
    pub fn who(&self, principal: &Principal) -> (usize, Option<usize>) {
        let c = usize::from(principal.client) % self.clients.len();
        let reps = self.clients[c].representatives.len();
        (c, principal.representative.filter(|_| reps > 0).map(|r| usize::from(r) % reps))
    }
}

impl Day {
    pub fn date(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            Day::Open => None,
            Day::LongAgo => today.checked_sub_days(Days::new(400)),
            Day::Yesterday => today.pred_opt(),
            Day::Today => Some(today),
            Day::Tomorrow => today.succ_opt(),
            Day::Later => today.checked_add_days(Days::new(300)),
        }
    }
}

impl Birth {
    pub fn date(self, today: NaiveDate) -> NaiveDate {
        let eighteen_ago = today.checked_sub_months(Months::new(18 * 12)).unwrap();
        match self {
            Birth::Ago(years, days) => {
                today.checked_sub_months(Months::new(years * 12)).unwrap().checked_sub_days(Days::new(days)).unwrap()
            }
            Birth::EighteenToday => eighteen_ago,
            Birth::EighteenTomorrow => eighteen_ago.succ_opt().unwrap(),
        }
    }
}

impl Kind {
    pub fn soort(self) -> &'static str {
        match self {
            Kind::Mentor => "mentor",
            Kind::Curator => "curator",
            Kind::Bewindvoerder => "bewindvoerder",
            Kind::Voogd => "voogd",
            Kind::OuderMetGezag => "ouder_met_gezag",
            Kind::Gemachtigde => "gemachtigde",
            Kind::Naaste => "naaste",
        }
    }
}

impl Level {
    pub fn portaaltoegang(self) -> &'static str {
        match self {
            Level::Volledig => "volledig",
            Level::Noodzakelijk => "noodzakelijk",
            Level::Beperkt => "beperkt",
            Level::Financieel => "financieel",
            Level::Geen => "geen",
        }
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        1 => Just(Kind::Mentor),
        1 => Just(Kind::Curator),
        1 => Just(Kind::Bewindvoerder),
        1 => Just(Kind::Voogd),
        1 => Just(Kind::OuderMetGezag),
        1 => Just(Kind::Gemachtigde),
        4 => Just(Kind::Naaste),
    ]
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        4 => Just(Level::Volledig),
        2 => Just(Level::Noodzakelijk),
        2 => Just(Level::Beperkt),
        2 => Just(Level::Financieel),
        1 => Just(Level::Geen),
    ]
}

fn from_day() -> impl Strategy<Value = Day> {
    prop_oneof![
        5 => Just(Day::LongAgo),
        2 => Just(Day::Open),
        1 => Just(Day::Yesterday),
        1 => Just(Day::Today),
        1 => Just(Day::Tomorrow),
        1 => Just(Day::Later),
    ]
}

fn until_day() -> impl Strategy<Value = Day> {
    prop_oneof![
        5 => Just(Day::Open),
        2 => Just(Day::Later),
        1 => Just(Day::Tomorrow),
        1 => Just(Day::Today),
        1 => Just(Day::Yesterday),
        1 => Just(Day::LongAgo),
    ]
}

fn birth() -> impl Strategy<Value = Birth> {
    prop_oneof![
        5 => (19u32..90, 0u64..365).prop_map(|(y, d)| Birth::Ago(y, d)),
        2 => (1u32..17, 0u64..365).prop_map(|(y, d)| Birth::Ago(y, d)),
        1 => Just(Birth::EighteenToday),
        1 => Just(Birth::EighteenTomorrow),
    ]
}

fn representative() -> impl Strategy<Value = Representative> {
    (kind(), level(), from_day(), until_day(), weighted(0.85, (0u8..4, 0u8..4)), any::<bool>()).prop_map(
        |(kind, level, from, until, email, may_write)| Representative { kind, level, from, until, email, may_write },
    )
}

fn sender() -> impl Strategy<Value = Party> {
    prop_oneof![(0..STAFF).prop_map(Party::Staff), Just(Party::Client), (0u8..3).prop_map(Party::Representative)]
}

fn recipient() -> impl Strategy<Value = Party> {
    prop_oneof![
        1 => (0..STAFF).prop_map(Party::Staff),
        1 => Just(Party::Responsible),
        1 => Just(Party::Client),
        2 => (0u8..3).prop_map(Party::Representative),
    ]
}

fn client() -> impl Strategy<Value = Client> {
    (
        birth(),
        weighted(0.7, 0..STAFF),
        vec(representative(), 0..=3),
        vec((sender(), weighted(0.85, Just(()))), 0..=4),
        vec(0..STAFF, 0..=3),
        0u8..=2,
        vec((sender(), recipient()), 0..=5),
    )
        .prop_map(|(birth, responsible, representatives, reports, measurements, invoices, messages)| Client {
            birth,
            responsible,
            representatives,
            reports: reports.into_iter().map(|(author, portal)| (author, portal.is_some())).collect(),
            measurements,
            invoices,
            messages,
        })
}

fn principal() -> impl Strategy<Value = Principal> {
    (0u8..3, weighted(0.8, 0u8..3), 1u8..16).prop_map(|(client, representative, scopes)| Principal {
        client,
        representative,
        scopes,
    })
}

/// A world of 2 or 3 clients and the 5 principals that ask.
pub fn case() -> impl Strategy<Value = Case> {
    (vec(client(), 2..=3), vec(principal(), 5)).prop_map(|(clients, principals)| Case { clients, principals })
}
