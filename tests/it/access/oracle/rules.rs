//! The oracle: what a principal must see, worked out by brute force from
//! the generated world and the rules of `access-model.md`, in vendor
//! numbers. Written apart from `src/access` on purpose: plain sets over
//! the generated data, so that a shared mistake is unlikely.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::delivery::Numbers;
use super::world::{Case, Client, Kind, Level, Principal, Representative, Resolved, SCOPES, STAFF};

/// The data categories (access-model.md, "Data categories").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cat {
    Identity,
    Profile,
    Reports,
    Measurements,
    Plan,
    Questionnaires,
    Agenda,
    Messages,
    Consents,
    Finance,
    AccessLog,
}

/// A record by its type and vendor number.
pub type Key = (&'static str, String);

/// What a search must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Forbidden,
    Found { matches: BTreeSet<Key>, included: BTreeSet<Key> },
}

/// The types the searches ask for, and the types a scope can name, with
/// the categories their records can be in.
const TYPES: [(&str, &[Cat]); 9] = [
    ("Patient", &[Cat::Identity]),
    ("RelatedPerson", &[Cat::Profile]),
    ("CareTeam", &[Cat::Profile]),
    ("EpisodeOfCare", &[Cat::Profile]),
    ("Practitioner", &[Cat::Profile]),
    ("Observation", &[Cat::Measurements]),
    ("Communication", &[Cat::Reports, Cat::Messages]),
    ("Invoice", &[Cat::Finance]),
    ("Consent", &[Cat::Consents]),
];

fn categories_of(resource_type: &str) -> &'static [Cat] {
    TYPES.iter().find(|(t, _)| *t == resource_type).map_or(&[], |(_, c)| c)
}

/// Pluriform `[tables.leesrechten]`, and `access-log` for a `volledig`
/// grant of a legal representative other than a bewindvoerder.
fn level_reads(level: Level, kind: Kind) -> BTreeSet<Cat> {
    use Cat::*;
    let mut read: BTreeSet<Cat> = match level {
        Level::Volledig => {
            [Identity, Profile, Reports, Measurements, Plan, Questionnaires, Agenda, Messages, Consents, Finance].into()
        }
        Level::Noodzakelijk => [Identity, Profile, Plan, Consents].into(),
        Level::Beperkt => [Identity, Reports].into(),
        Level::Financieel => [Identity, Profile, Finance].into(),
        Level::Geen => BTreeSet::new(),
    };
    if level == Level::Volledig && !matches!(kind, Kind::Bewindvoerder | Kind::Naaste) {
        read.insert(AccessLog);
    }
    read
}

/// The day a client born on `birth` turns 18 (29 February: 1 March).
fn eighteenth_birthday(birth: NaiveDate) -> NaiveDate {
    let year = birth.year() + 18;
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(year, 3, 1).unwrap())
}

/// What one representative's grant gives today, if anything.
pub fn grant(rep: &Representative, client: &Client, today: NaiveDate) -> Option<BTreeSet<Cat>> {
    if rep.level == Level::Geen
        || rep.from.date(today).is_some_and(|from| today < from)
        || rep.until.date(today).is_some_and(|until| today > until)
    {
        return None;
    }
    if matches!(rep.kind, Kind::Voogd | Kind::OuderMetGezag) && today >= eighteenth_birthday(client.birth.date(today)) {
        return None;
    }
    let mut read = level_reads(rep.level, rep.kind);
    if rep.kind == Kind::Bewindvoerder {
        read.retain(|c| matches!(c, Cat::Identity | Cat::Profile | Cat::Finance));
    }
    read.insert(Cat::Identity);
    Some(read)
}

/// What a person may read of one client.
#[derive(Debug, Default)]
struct Access {
    read: BTreeSet<Cat>,
    /// Full access: every message of the client.
    every_message: bool,
    /// The person's own parties among this client's: a message they send
    /// or receive is theirs.
    me: BTreeSet<Resolved>,
}

/// The oracle for one principal of one case.
pub struct Oracle<'a> {
    case: &'a Case,
    numbers: &'a Numbers,
    /// The client in context.
    context: usize,
    /// The token's own record.
    own: Key,
    scopes: Vec<&'static str>,
    access: BTreeMap<usize, Access>,
}

fn normalised(numbers: &Numbers, rep: &Representative) -> Option<String> {
    rep.email.map(|e| numbers.email(e).trim().to_lowercase()).filter(|e| !e.is_empty())
}

impl<'a> Oracle<'a> {
    pub fn new(case: &'a Case, numbers: &'a Numbers, principal: &Principal, today: NaiveDate) -> Oracle<'a> {
        let (context, representative) = case.who(principal);
        let scopes = SCOPES.iter().enumerate().filter(|(i, _)| principal.scopes & (1 << i) != 0).map(|(_, s)| *s);
        let mut access: BTreeMap<usize, Access> = BTreeMap::new();
        let own = match representative {
            None => {
                let mine = access.entry(context).or_default();
                mine.read = categories_all();
                mine.me.insert(Resolved::Client);
                ("Patient", numbers.client(context))
            }
            Some(r) => {
                let address = normalised(numbers, &case.clients[context].representatives[r]);
                for (c, client) in case.clients.iter().enumerate() {
                    for (r2, rep) in client.representatives.iter().enumerate() {
                        let same =
                            (c, r2) == (context, r) || (address.is_some() && normalised(numbers, rep) == address);
                        if !same {
                            continue;
                        }
                        let entry = access.entry(c).or_default();
                        entry.me.insert(Resolved::Representative(r2));
                        if let Some(read) = grant(rep, client, today) {
                            entry.every_message |= read.contains(&Cat::AccessLog);
                            entry.read.extend(read);
                        }
                    }
                }
                ("RelatedPerson", numbers.representative(context, r))
            }
        };
        access.retain(|_, a| !a.read.is_empty());
        Oracle { case, numbers, context, own, scopes: scopes.collect(), access }
    }

    /// Whether the person has several records (identities) for one client.
    pub fn twice_for_one_client(&self) -> bool {
        self.access.values().any(|a| a.me.len() > 1)
    }

    /// Whether the token's scopes let it read `resource_type` of `client`.
    fn scope_allows(&self, client: usize, resource_type: &str) -> bool {
        self.scopes.iter().any(|scope| {
            let (context, rest) = scope.split_once('/').unwrap();
            let (scoped_type, _) = rest.split_once('.').unwrap();
            (context == "user" || client == self.context) && (scoped_type == "*" || scoped_type == resource_type)
        })
    }

    /// Whether a record of `client` of this type and category is visible;
    /// `parties` are a message's sender and recipient.
    fn sees(&self, resource_type: &str, client: usize, category: Cat, parties: &[Resolved]) -> bool {
        let Some(access) = self.access.get(&client) else { return false };
        self.scope_allows(client, resource_type)
            && access.read.contains(&category)
            && (category != Cat::Messages || access.every_message || parties.iter().any(|p| access.me.contains(p)))
    }

    /// Whether a search of `resource_type` is allowed at all.
    fn permitted(&self, resource_type: &str) -> bool {
        if self.own.0 == resource_type {
            return true;
        }
        self.access.iter().any(|(&c, access)| {
            if !self.scope_allows(c, resource_type) {
                return false;
            }
            let readable = |t: &str| categories_of(t).iter().any(|cat| access.read.contains(cat));
            if resource_type == "Practitioner" {
                // No client of its own: allowed where the person may see
                // anything of a client through the token's scopes.
                TYPES.iter().any(|(t, _)| *t != "Practitioner" && self.scope_allows(c, t) && readable(t))
            } else {
                readable(resource_type)
            }
        })
    }

    /// Every record of the case of `resource_type` the principal sees.
    fn visible(&self, resource_type: &str) -> BTreeSet<Key> {
        let n = self.numbers;
        let mut found = BTreeSet::new();
        let mut referred_staff = BTreeSet::new();
        for (c, client) in self.case.clients.iter().enumerate() {
            for Record { resource_type: t, category, number, parties } in records(n, c, client) {
                let own = (t, number.clone()) == self.own;
                if !own && !self.sees(t, c, category, &parties) {
                    continue;
                }
                if t == resource_type {
                    found.insert((t, number));
                }
                // A practitioner through what refers to them, where the
                // scopes let the token read practitioners of this client
                // (`patient/` scopes: the client in context only).
                if !own && self.scope_allows(c, "Practitioner") {
                    referred_staff.extend(parties.iter().filter_map(|p| match p {
                        Resolved::Staff(s) => Some(*s),
                        _ => None,
                    }));
                }
            }
        }
        if resource_type == "Practitioner" {
            found.extend(referred_staff.into_iter().map(|s| ("Practitioner", n.staff(s))));
        }
        found
    }

    /// What `search` (a type, optionally with `_include=Communication:subject`) answers.
    pub fn expect(&self, search: &str) -> Expected {
        let (resource_type, include) = match search.split_once('?') {
            Some((t, query)) => (t, query == "_include=Communication:subject"),
            None => (search, false),
        };
        if !self.permitted(resource_type) {
            return Expected::Forbidden;
        }
        let matches = self.visible(resource_type);
        let mut included = BTreeSet::new();
        if include && self.permitted("Patient") {
            let patients = self.visible("Patient");
            for (c, client) in self.case.clients.iter().enumerate() {
                let number = self.numbers.client(c);
                let subject_of_a_match = matches.iter().any(|(_, m)| {
                    (0..client.reports.len()).any(|i| *m == self.numbers.report(c, i))
                        || (0..client.messages.len()).any(|i| *m == self.numbers.message(c, i))
                });
                if subject_of_a_match && patients.contains(&("Patient", number.clone())) {
                    included.insert(("Patient", number));
                }
            }
        }
        Expected::Found { matches, included }
    }
}

/// A stored record of a client: its type, category, vendor number and
/// the parties it names (author, sender and recipient, performer, care
/// team member).
struct Record {
    resource_type: &'static str,
    category: Cat,
    number: String,
    parties: Vec<Resolved>,
}

/// Every record the delivery stores for client `c`.
fn records(n: &Numbers, c: usize, client: &Client) -> Vec<Record> {
    let record = |resource_type, category, number, parties| Record { resource_type, category, number, parties };
    let staff = |s: &u8| Resolved::Staff(usize::from(s % STAFF));
    let mut all = vec![record("Patient", Cat::Identity, n.client(c), vec![])];
    for r in 0..client.representatives.len() {
        all.push(record("RelatedPerson", Cat::Profile, n.representative(c, r), vec![]));
    }
    if let Some(s) = &client.responsible {
        all.push(record("CareTeam", Cat::Profile, n.client(c), vec![staff(s)]));
    }
    for (i, s) in client.measurements.iter().enumerate() {
        all.push(record("Observation", Cat::Measurements, n.measurement(c, i), vec![staff(s)]));
    }
    for (i, (author, portal)) in client.reports.iter().enumerate() {
        if *portal {
            all.push(record("Communication", Cat::Reports, n.report(c, i), vec![client.resolve(*author)]));
        }
    }
    for (i, (from, to)) in client.messages.iter().enumerate() {
        let parties = vec![client.resolve(*from), client.resolve(*to)];
        all.push(record("Communication", Cat::Messages, n.message(c, i), parties));
    }
    for i in 0..usize::from(client.invoices) {
        all.push(record("Invoice", Cat::Finance, n.invoice(c, i), vec![]));
    }
    all
}

fn categories_all() -> BTreeSet<Cat> {
    use Cat::*;
    [Identity, Profile, Reports, Measurements, Plan, Questionnaires, Agenda, Messages, Consents, Finance, AccessLog]
        .into()
}
