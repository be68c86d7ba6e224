//! Records whose client comes through another record, and records that
//! amend another record (see [`super::Linking`]).
//!
//! Such a record is kept as mapped in `source_linked` (its resources with
//! their linked references unresolved), and *placed*: its link is followed
//! to the client it names, whichever vendor delivered that client, and its
//! resources are written under that client's Patient, with the amendments
//! of it merged in ([`crate::source::amend`]). While the link names no
//! client (or one not delivered yet) the record is *held*: nothing of it is
//! written, nobody sees it. It is placed again when
//!
//! - it changes, or an amendment of it does;
//! - the record it links through changes ([`SourceWriter::relink`]): it
//!   moves to the newly linked client, or is held again;
//! - its client arrives in a later delivery of any vendor
//!   ([`super::attach`], after every ingest).
//!
//! A client tombstone deletes what is written under the client (the
//! compartment cascade) and forgets the records linked to it, so that a
//! later link elsewhere does not bring them back.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::{
    Identity, RecordKey, SourceChange, SourceRecordWrite, SourceRecordWritten, SourceResult, SourceWriter, written,
};
use crate::fhir::{ResourceId, ResourceType};
use crate::mapping::engine::MappedResource;
use crate::source::amend::{Amendment, apply_amendments};
use crate::source::order::Condition;
use crate::source::reference::replace_linked;
use crate::store::{Error, ErrorKind, Result};

/// What one transaction knows of links and clients.
#[derive(Debug, Default)]
pub(super) struct LinkCache {
    /// The client (source id) each linking record names; `None`: none.
    clients: HashMap<RecordKey, Option<String>>,
    /// Clients by source id, whichever vendor delivered them.
    patients: HashMap<String, Option<Client>>,
    /// The kinds of the records amendments name (read when first needed).
    amended_kinds: Option<HashSet<String>>,
}

#[derive(Debug, Clone)]
enum Client {
    Live(ResourceId),
    Deleted,
}

/// Where a link leads.
enum Resolved {
    /// Not linked through another record: its references say it all.
    Direct,
    Client(ResourceId),
    ClientDeleted,
    Unlinked,
}

/// A record as kept in `source_linked`.
struct Kept {
    link: Option<RecordKey>,
    changed_at: i64,
    held: bool,
    resources: Vec<MappedResource>,
}

const KEPT_COLUMNS: &str = "link_kind, link_id, changed_at, held, resources";

impl SourceWriter<'_> {
    /// Writes a record kept in `source_linked` whose delivered state the
    /// order rule applied: keeps (or forgets) it, then places it, or for an
    /// amendment, the record it amends.
    pub(super) async fn write_linked(
        &mut self,
        record: &SourceRecordWrite,
        change: SourceChange,
        known: bool,
        identities: Vec<Identity>,
    ) -> Result<SourceRecordWritten> {
        let key = (record.kind.clone(), record.source_id.clone());
        let amends = record.linking.amends.clone();
        match change {
            SourceChange::Write { resources, .. } => {
                let Some(target) = amends else {
                    let kept =
                        Kept { link: record.linking.via.clone(), changed_at: record.changed_at, held: true, resources };
                    let placed = self.place_kept(&key, kept, Some(record)).await?;
                    if matches!(placed.result, SourceResult::Failed { .. } | SourceResult::ClientDeleted) {
                        self.forget_linked(&key).await?;
                    }
                    return Ok(placed);
                };
                self.keep_linked(record, &resources, false).await?;
                // Known to be amended from now on (after reading which kinds are).
                self.is_amended(&target.0).await?;
                self.links.amended_kinds.get_or_insert_with(HashSet::new).insert(target.0.clone());
                let mut placed = self.place(&target).await?;
                placed.result = match placed.result {
                    SourceResult::Held => SourceResult::Held,
                    SourceResult::Failed { field, reason } => {
                        self.forget_linked(&key).await?;
                        SourceResult::Failed { field, reason }
                    }
                    // The amended record is not there (yet): this waits.
                    SourceResult::Unchanged if placed.versions == 0 && !self.is_kept(&target).await? => {
                        SourceResult::Held
                    }
                    _ if known => SourceResult::Updated,
                    _ => SourceResult::Created,
                };
                Ok(placed)
            }
            SourceChange::Delete | SourceChange::Skip => {
                let skip = matches!(change, SourceChange::Skip);
                self.forget_linked(&key).await?;
                let mut versions = self.delete_parts(&identities).await?;
                let mut warnings = Vec::new();
                if let Some(target) = amends {
                    let placed = self.place(&target).await?;
                    versions += placed.versions;
                    warnings = placed.warnings;
                }
                let result = match (skip, identities.is_empty()) {
                    (true, _) => SourceResult::Skipped,
                    (false, true) => SourceResult::Unchanged,
                    (false, false) => SourceResult::Deleted,
                };
                Ok(written(result, versions, warnings))
            }
        }
    }

    /// A record others link through was written: they follow it (to its
    /// client, or held while it names none). `outcome` is its own.
    pub(super) async fn relink(
        &mut self,
        record: &SourceRecordWrite,
        condition: Condition,
        first: bool,
        mut outcome: SourceRecordWritten,
    ) -> Result<SourceRecordWritten> {
        let key = (record.kind.clone(), record.source_id.clone());
        let client = record.client.clone().filter(|_| condition == Condition::Written);
        self.links.clients.insert(key.clone(), client);
        let sql = self.sql(
            "SELECT kind, source_id FROM source_linked WHERE tenant = ? AND vendor = ? AND link_kind = ? \
             AND link_id = ? AND amends_kind IS NULL ORDER BY kind, source_id",
            self.key(&key.0, &key.1),
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let mut following = Vec::with_capacity(rows.len());
        for row in &rows {
            following.push((row.text(0)?.to_owned(), row.text(1)?.to_owned()));
        }
        for linked in following {
            let placed = self.place(&linked).await?;
            outcome.versions += placed.versions;
            outcome.warnings.extend(placed.warnings.into_iter().map(|w| format!("{} {}: {w}", linked.0, linked.1)));
            match placed.result {
                SourceResult::ClientDeleted => self.forget_linked(&linked).await?,
                SourceResult::Failed { field, reason } => {
                    outcome
                        .warnings
                        .push(format!("{} {}: not written under its client: {field}: {reason}", linked.0, linked.1));
                }
                _ => {}
            }
        }
        // A record without resources of its own still changed.
        if condition == Condition::Written && outcome.result == SourceResult::Unchanged {
            outcome.result = if first { SourceResult::Created } else { SourceResult::Updated };
        }
        Ok(outcome)
    }

    /// Writes a kept record under its client with its amendments, or holds
    /// it while its link names no client. `Unchanged` with no versions for
    /// a record not kept.
    pub(super) async fn place(&mut self, key: &RecordKey) -> Result<SourceRecordWritten> {
        match self.kept(key).await? {
            Some(kept) => self.place_kept(key, kept, None).await,
            None => Ok(written(SourceResult::Unchanged, 0, Vec::new())),
        }
    }

    /// [`Self::place`] for a record as kept; `new`: a record just delivered,
    /// whose row is written here (none when its client is deleted).
    async fn place_kept(
        &mut self,
        key: &RecordKey,
        kept: Kept,
        new: Option<&SourceRecordWrite>,
    ) -> Result<SourceRecordWritten> {
        let identities = self.identities(&key.0, &key.1).await?;
        let resolved = self.resolve(kept.link.as_ref()).await?;
        let held = matches!(resolved, Resolved::Unlinked);
        match (new, &resolved) {
            (_, Resolved::ClientDeleted) => {}
            (Some(record), _) => self.keep_linked(record, &kept.resources, held).await?,
            (None, _) if held && !kept.held => self.set_held(key, true).await?,
            (None, _) => {}
        }
        let patient = match resolved {
            Resolved::Unlinked => {
                let versions = self.delete_parts(&identities).await?;
                return Ok(written(SourceResult::Held, versions, Vec::new()));
            }
            Resolved::ClientDeleted => {
                let versions = self.delete_parts(&identities).await?;
                return Ok(written(SourceResult::ClientDeleted, versions, Vec::new()));
            }
            Resolved::Client(id) => Some(format!("Patient/{id}")),
            Resolved::Direct => None,
        };
        let mut resources = kept.resources;
        let mut warnings = Vec::new();
        if self.is_amended(&key.0).await? {
            warnings = apply_amendments(&mut resources, kept.changed_at, &self.amendments_of(key).await?);
        }
        if let Some(patient) = &patient {
            for resource in &mut resources {
                replace_linked(&mut resource.resource, patient);
            }
        }
        let record = SourceRecordWrite {
            kind: key.0.clone(),
            source_id: key.1.clone(),
            client: None,
            changed_at: kept.changed_at,
            change: SourceChange::Skip,
            linking: super::Linking::default(),
        };
        let placed = self.write_parts(&record, resources, identities, warnings).await?;
        if new.is_none() && kept.held && !matches!(placed.result, SourceResult::Failed { .. }) {
            self.set_held(key, false).await?;
        }
        Ok(placed)
    }

    /// Where a link leads now.
    async fn resolve(&mut self, link: Option<&RecordKey>) -> Result<Resolved> {
        let Some(link) = link else { return Ok(Resolved::Direct) };
        let client = match self.links.clients.get(link) {
            Some(client) => client.clone(),
            None => {
                let sql = self.sql(
                    "SELECT client_source, state FROM source_record \
                     WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ?",
                    self.key(&link.0, &link.1),
                );
                let rows = self.versions.tx().fetch_all(sql).await?;
                let client = match rows.first() {
                    Some(row) if row.text(1)? == Condition::Written.code() => row.opt_text(0)?.map(str::to_owned),
                    _ => None,
                };
                self.links.clients.insert(link.clone(), client.clone());
                client
            }
        };
        let Some(client) = client else { return Ok(Resolved::Unlinked) };
        Ok(match self.client(&client).await? {
            Some(Client::Live(id)) => Resolved::Client(id),
            Some(Client::Deleted) => Resolved::ClientDeleted,
            None => Resolved::Unlinked,
        })
    }

    /// The tenant's client with this source id, whichever vendor
    /// delivered it.
    async fn client(&mut self, source_id: &str) -> Result<Option<Client>> {
        if let Some(found) = self.links.patients.get(source_id) {
            return Ok(found.clone());
        }
        let sql = self.sql(
            "SELECT i.resource_id, r.state FROM source_identity i JOIN source_record r ON r.tenant = i.tenant \
             AND r.vendor = i.vendor AND r.kind = i.kind AND r.source_id = i.source_id \
             WHERE i.tenant = ? AND i.source_id = ? AND i.part = '' AND i.resource_type = 'Patient' \
             ORDER BY r.state DESC, i.vendor",
            vec![self.tenant.as_str().into(), source_id.into()],
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        // `written` sorts after `deleted` and `skipped`: a live client wins.
        let found = match rows.first() {
            None => None,
            Some(row) if row.text(1)? != Condition::Written.code() => Some(Client::Deleted),
            Some(row) => Some(Client::Live(
                ResourceId::parse(row.text(0)?)
                    .map_err(|_| Error::new(ErrorKind::Internal, "source identity with an invalid id"))?,
            )),
        };
        self.links.patients.insert(source_id.to_owned(), found.clone());
        Ok(found)
    }

    async fn kept(&mut self, key: &RecordKey) -> Result<Option<Kept>> {
        let text = format!(
            "SELECT {KEPT_COLUMNS} FROM source_linked WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ?"
        );
        let sql = self.sql(&text, self.key(&key.0, &key.1));
        let rows = self.versions.tx().fetch_all(sql).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let link = match (row.text(0)?, row.text(1)?) {
            ("", _) => None,
            (kind, id) => Some((kind.to_owned(), id.to_owned())),
        };
        Ok(Some(Kept { link, changed_at: row.int(2)?, held: row.bool(3)?, resources: from_json(row.text(4)?)? }))
    }

    async fn is_kept(&mut self, key: &RecordKey) -> Result<bool> {
        Ok(self.kept(key).await?.is_some())
    }

    /// Whether records of `kind` have amendments (read once a transaction).
    async fn is_amended(&mut self, kind: &str) -> Result<bool> {
        if self.links.amended_kinds.is_none() {
            let sql = self.sql(
                "SELECT DISTINCT amends_kind FROM source_linked \
                 WHERE tenant = ? AND vendor = ? AND amends_kind IS NOT NULL",
                vec![self.tenant.as_str().into(), self.delivery.vendor.as_str().into()],
            );
            let rows = self.versions.tx().fetch_all(sql).await?;
            let mut kinds = HashSet::new();
            for row in &rows {
                kinds.insert(row.text(0)?.to_owned());
            }
            self.links.amended_kinds = Some(kinds);
        }
        Ok(self.links.amended_kinds.as_ref().is_some_and(|kinds| kinds.contains(kind)))
    }

    /// The kept amendments of a record.
    async fn amendments_of(&mut self, key: &RecordKey) -> Result<Vec<Amendment>> {
        let sql = self.sql(
            "SELECT source_id, changed_at, resources FROM source_linked \
             WHERE tenant = ? AND vendor = ? AND amends_kind = ? AND amends_id = ?",
            self.key(&key.0, &key.1),
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let mut amendments = Vec::with_capacity(rows.len());
        for row in &rows {
            amendments.push(Amendment {
                source_id: row.text(0)?.to_owned(),
                changed_at: row.int(1)?,
                resources: from_json(row.text(2)?)?,
            });
        }
        Ok(amendments)
    }

    /// Keeps a record as mapped, held or not.
    async fn keep_linked(
        &mut self,
        record: &SourceRecordWrite,
        resources: &[MappedResource],
        held: bool,
    ) -> Result<()> {
        let (link_kind, link_id) = record.linking.via.clone().unwrap_or_default();
        let (amends_kind, amends_id) = record.linking.amends.clone().unzip();
        let mut binds = self.key(&record.kind, &record.source_id);
        binds.extend([
            link_kind.into(),
            link_id.into(),
            amends_kind.into(),
            amends_id.into(),
            record.changed_at.into(),
            held.into(),
            to_json(resources).into(),
            self.delivery.name.as_str().into(),
            self.delivery.created.as_str().into(),
            self.delivery.mapping_version.as_str().into(),
        ]);
        let sql = self.sql(
            "INSERT INTO source_linked (tenant, vendor, kind, source_id, link_kind, link_id, amends_kind, amends_id, \
             changed_at, held, resources, delivery, delivery_made, mapping_version) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant, vendor, kind, source_id) DO UPDATE SET link_kind = excluded.link_kind, \
             link_id = excluded.link_id, amends_kind = excluded.amends_kind, amends_id = excluded.amends_id, \
             changed_at = excluded.changed_at, held = excluded.held, resources = excluded.resources, \
             delivery = excluded.delivery, \
             delivery_made = excluded.delivery_made, mapping_version = excluded.mapping_version",
            binds,
        );
        self.versions.tx().execute(sql).await.map(drop)
    }

    async fn set_held(&mut self, key: &RecordKey, held: bool) -> Result<()> {
        let mut binds = vec![held.into()];
        binds.extend(self.key(&key.0, &key.1));
        let sql = self.sql(
            "UPDATE source_linked SET held = ? WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ?",
            binds,
        );
        self.versions.tx().execute(sql).await.map(drop)
    }

    pub(super) async fn forget_linked(&mut self, key: &RecordKey) -> Result<()> {
        let sql = self.sql(
            "DELETE FROM source_linked WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ?",
            self.key(&key.0, &key.1),
        );
        self.versions.tx().execute(sql).await.map(drop)
    }

    /// A client tombstone: the records linked to the client (of every
    /// vendor) are forgotten; what they wrote went with the compartment.
    pub(super) async fn forget_linked_to_client(&mut self, client: &str) -> Result<()> {
        // The records that name this client (among them the accounts others
        // link through, of any vendor), then what links through them.
        let sql = self.sql(
            "SELECT vendor, kind, source_id FROM source_record WHERE tenant = ? AND client_source = ?",
            vec![self.tenant.as_str().into(), client.into()],
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let mut links = Vec::with_capacity(rows.len());
        for row in &rows {
            links.push([row.text(0)?.to_owned(), row.text(1)?.to_owned(), row.text(2)?.to_owned()]);
        }
        for [vendor, kind, source_id] in links {
            let sql = self.sql(
                "DELETE FROM source_linked WHERE tenant = ? AND vendor = ? AND link_kind = ? AND link_id = ?",
                vec![self.tenant.as_str().into(), vendor.into(), kind.into(), source_id.into()],
            );
            self.versions.tx().execute(sql).await?;
        }
        self.links.patients.remove(client);
        Ok(())
    }
}

fn to_json(resources: &[MappedResource]) -> String {
    let items: Vec<Value> = resources
        .iter()
        .map(|r| json!({"part": r.part, "resourceType": r.resource_type.as_str(), "resource": r.resource}))
        .collect();
    Value::Array(items).to_string()
}

fn from_json(text: &str) -> Result<Vec<MappedResource>> {
    let invalid = || Error::new(ErrorKind::Internal, "a kept linked record that is not as written");
    let Value::Array(items) = serde_json::from_str::<Value>(text).map_err(|_| invalid())? else {
        return Err(invalid());
    };
    items
        .into_iter()
        .map(|mut item| {
            let part = item["part"].as_str().ok_or_else(invalid)?.to_owned();
            let resource_type: ResourceType =
                item["resourceType"].as_str().and_then(|t| t.parse().ok()).ok_or_else(invalid)?;
            Ok(MappedResource { part, resource_type, resource: item["resource"].take() })
        })
        .collect()
}
