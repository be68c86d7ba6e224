//! The generator behind the demo data and the benchmarks.

use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Europe::Amsterdam;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::fhir::classify::{COMMUNICATION_CATEGORY_SYSTEM, CONSENT_CATEGORY_SYSTEM};
use crate::fhir::{DataCategory, ResourceId, ResourceType};

/// How much to generate per client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSize {
    pub clients: usize,
    pub observations_per_client: usize,
    pub communications_per_client: usize,
    pub appointments_per_client: usize,
}

impl DemoSize {
    /// A small, varied set for trying the API.
    pub fn demo(clients: usize) -> Self {
        DemoSize { clients, observations_per_client: 12, communications_per_client: 6, appointments_per_client: 4 }
    }

    /// How many resources the generator makes for this size.
    pub fn resources(&self) -> usize {
        SHARED_RESOURCES
            + self.clients
                * (self.observations_per_client
                    + self.communications_per_client
                    + self.appointments_per_client
                    + OTHER_RESOURCES_PER_CLIENT)
    }
}

/// The organisation's own resources, shared by all clients: the care
/// organisation, the Wlz care office, two practitioners and their roles.
pub const SHARED_RESOURCES: usize = 6;

/// The resources of every client besides the observations, communications
/// and appointments: Patient, RelatedPerson, Consent, CareTeam, Coverage,
/// EpisodeOfCare, Provenance, Goal, CarePlan, DocumentReference, Binary,
/// Invoice and QuestionnaireResponse.
pub const OTHER_RESOURCES_PER_CLIENT: usize = 13;

/// One generated resource with its server id.
#[derive(Debug, Clone)]
pub struct Generated {
    pub resource_type: ResourceType,
    pub id: ResourceId,
    pub resource: Value,
}

/// Generates clients one at a time (memory does not grow with their number).
#[derive(Debug)]
pub struct Generator {
    size: DemoSize,
    rng: StdRng,
    practitioners: Vec<ResourceId>,
    roles: Vec<ResourceId>,
    organization: Option<ResourceId>,
    care_office: Option<ResourceId>,
}

const GIVEN: &[&str] =
    &["Anna", "Bram", "Daan", "Emma", "Fenna", "Joris", "Lotte", "Mila", "Noah", "Sanne", "Thijs", "Yara"];
const FAMILY: &[(&str, Option<&str>)] = &[
    ("Jansen", None),
    ("Berg", Some("van den")),
    ("Vries", Some("de")),
    ("Bakker", None),
    ("Visser", None),
    ("Dijk", Some("van")),
    ("Smit", None),
    ("Meijer", None),
];
const REPORTS: &[&str] = &[
    "Goed geslapen en ontbeten. Vrolijk aan de dag begonnen.",
    "Vandaag gewandeld in het park, daarna samen koffie gedronken.",
    "Wat onrustig na het bezoek. Met muziek tot rust gekomen.",
    "Dagbesteding: in de tuin gewerkt. Trots op het resultaat.",
];
/// Wlz care profiles (zorgprofielen) of the CIZ decision: code and name.
const CARE_PROFILES: &[(&str, &str)] = &[
    ("VG03", "Wonen met begeleiding en verzorging"),
    ("VG04", "Wonen met intensieve begeleiding en uitgebreide verzorging"),
    ("VG05", "Wonen met zeer intensieve begeleiding en zeer intensieve verzorging"),
    ("VV04", "Beschermd wonen met intensieve begeleiding en uitgebreide verzorging"),
    ("VV05", "Beschermd wonen met intensieve dementiezorg"),
];
/// RoleCodeNL, the code system of relations of a client (`15`: mentor).
const ROLE_CODE_NL: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.22.472";
const MESSAGES: &[&str] = &[
    "Kunnen we de afspraak van donderdag verzetten?",
    "Bedankt voor het fijne gesprek.",
    "Is de nieuwe bril al binnen?",
];

impl Generator {
    pub fn new(size: DemoSize, seed: u64) -> Self {
        Generator {
            size,
            rng: StdRng::seed_from_u64(seed),
            practitioners: Vec::new(),
            roles: Vec::new(),
            organization: None,
            care_office: None,
        }
    }

    /// The organisation and its staff, and the care office (zorgkantoor)
    /// that pays the clients' Wlz care: shared by all clients.
    pub fn organisation(&mut self) -> Vec<Generated> {
        let organization = generated(
            ResourceType::Organization,
            json!({
                "resourceType": "Organization",
                "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/agb-z", "value": "47470001"}],
                "active": true,
                "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider"}], "text": "Zorgaanbieder"}],
                "name": "Zorggroep De Linde"
            }),
        );
        let care_office = generated(
            ResourceType::Organization,
            json!({
                "resourceType": "Organization",
                "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/uzovi", "value": "5599"}],
                "active": true,
                "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "ins", "display": "Insurance Company"}], "text": "Zorgkantoor (Wlz-uitvoerder)"}],
                "name": "Zorgkantoor Utrecht",
                "address": [{"line": ["Stationsplein 10"], "city": "Utrecht", "postalCode": "3511ED", "country": "NL"}]
            }),
        );
        self.organization = Some(organization.id.clone());
        self.care_office = Some(care_office.id.clone());
        let mut out = vec![organization, care_office];
        let staff = [
            ("Sara", "Kok", json!({"text": "Persoonlijk begeleider"})),
            (
                "Ruben",
                "Mulder",
                json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/practitioner-role", "code": "nurse", "display": "Nurse"}], "text": "Verpleegkundige"}),
            ),
        ];
        for (given, family, role) in staff {
            let practitioner = generated(
                ResourceType::Practitioner,
                json!({
                    "resourceType": "Practitioner",
                    "active": true,
                    "name": [{"family": family, "given": [given], "text": format!("{given} {family}")}]
                }),
            );
            let practitioner_role = generated(
                ResourceType::PractitionerRole,
                json!({
                    "resourceType": "PractitionerRole",
                    "active": true,
                    "period": {"start": "2019-09-01"},
                    "practitioner": reference(&practitioner),
                    "organization": self.organization_reference(),
                    "code": [role],
                    "telecom": [{"system": "phone", "value": "030 123 45 67", "use": "work"}]
                }),
            );
            self.practitioners.push(practitioner.id.clone());
            self.roles.push(practitioner_role.id.clone());
            out.push(practitioner);
            out.push(practitioner_role);
        }
        out
    }

    /// Everything of one client, anchors before what refers to them.
    pub fn client(&mut self, index: usize) -> Vec<Generated> {
        let given = GIVEN[self.rng.random_range(0..GIVEN.len())];
        let (family, prefix) = FAMILY[self.rng.random_range(0..FAMILY.len())];
        let birth = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + Duration::days(self.rng.random_range(0..25_000));
        let mut name = json!({"family": family_name(family, prefix), "given": [given], "text": format!("{given} {}", family_name(family, prefix))});
        if let Some(prefix) = prefix {
            name["_family"] = json!({"extension": [
                {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix", "valueString": prefix},
                {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name", "valueString": family}
            ]});
        }
        let patient = generated(
            ResourceType::Patient,
            json!({
                "resourceType": "Patient",
                "identifier": [
                    {"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": self.bsn()},
                    {"system": "https://zorgpoort.nl/fhir/NamingSystem/demo/clientnummer", "value": format!("{}", 100_000 + index)}
                ],
                "active": true,
                "name": [name],
                "gender": (["female", "male", "other"][self.rng.random_range(0..3)]),
                "birthDate": birth.to_string(),
                "address": [{"line": ["Lindelaan 12"], "city": "Utrecht", "postalCode": "3521AB", "country": "NL"}]
            }),
        );
        let client = reference(&patient);
        let practitioner = json!({"reference": format!("Practitioner/{}", self.practitioners.first().map(ResourceId::as_str).unwrap_or("unknown"))});
        let mentor = generated(
            ResourceType::RelatedPerson,
            json!({
                "resourceType": "RelatedPerson",
                "active": true,
                "patient": client,
                "relationship": [{"coding": [{"system": ROLE_CODE_NL, "code": "15", "display": "Mentor"}]}],
                "name": [{"family": "Hendriks", "given": ["Karin"]}]
            }),
        );
        let mut out = vec![patient.clone(), mentor.clone()];
        out.push(self.mentor_grant(&client, &mentor));
        for i in 0..self.size.observations_per_client {
            out.push(self.observation(&client, i));
        }
        out.extend(self.care_context(&patient, &mentor, index));
        for i in 0..self.size.communications_per_client {
            out.push(self.communication(&client, &practitioner, &mentor, i));
        }
        // The provenance of the first report (without reports: of the first
        // measurement, or of the client's own record).
        let reported = out
            .iter()
            .find(|g| {
                g.resource_type == ResourceType::Communication
                    && g.resource["category"][0]["coding"][0]["code"] == "report"
            })
            .or_else(|| out.iter().find(|g| g.resource_type == ResourceType::Observation))
            .or_else(|| out.iter().find(|g| g.resource_type == ResourceType::Patient))
            .cloned();
        if let Some(reported) = reported {
            out.push(self.provenance(&reported, &practitioner));
        }
        for i in 0..self.size.appointments_per_client {
            out.push(self.appointment(&client, &practitioner, i));
        }
        let goal = generated(
            ResourceType::Goal,
            json!({
                "resourceType": "Goal",
                "lifecycleStatus": "active",
                "description": {"text": "Zelfstandig boodschappen doen"},
                "subject": client,
                "startDate": "2024-01-15"
            }),
        );
        out.push(generated(
            ResourceType::CarePlan,
            json!({
                "resourceType": "CarePlan",
                "status": "active",
                "intent": "plan",
                "title": "Cliëntplan 2024",
                "subject": client,
                "period": {"start": "2024-01-15", "end": "2025-01-14"},
                "goal": [reference(&goal)]
            }),
        ));
        out.push(goal);
        let document = generated(
            ResourceType::DocumentReference,
            json!({
                "resourceType": "DocumentReference",
                "status": "current",
                "subject": client,
                "date": self.date_time(2024, 0),
                "description": "Ondertekend cliëntplan",
                "category": [{"coding": [{"system": DataCategory::SYSTEM, "code": "plan"}]}],
                "content": [{"attachment": {"contentType": "application/pdf", "title": "clientplan.pdf"}}]
            }),
        );
        let binary = generated(
            ResourceType::Binary,
            json!({
                "resourceType": "Binary",
                "contentType": "application/pdf",
                "securityContext": reference(&document),
                "data": "JVBERi0xLjQKJSBkZW1vCg=="
            }),
        );
        let mut document = document;
        document.resource["content"][0]["attachment"]["url"] = json!(format!("Binary/{}", binary.id));
        out.push(document);
        out.push(binary);
        out.push(generated(
            ResourceType::Invoice,
            json!({
                "resourceType": "Invoice",
                "status": "issued",
                "subject": client,
                "date": self.date_time(2024, 1),
                "totalGross": {"value": 125.5, "currency": "EUR"}
            }),
        ));
        out.push(generated(ResourceType::QuestionnaireResponse, json!({
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "subject": client,
            "authored": self.date_time(2024, 2),
            "item": [{"linkId": "1", "text": "Hoe tevreden bent u over de zorg?", "answer": [{"valueInteger": self.rng.random_range(5..=10)}]}]
        })));
        out
    }

    /// The client's care team, the Wlz coverage by the care office and the
    /// episode of care at the organisation.
    fn care_context(&mut self, patient: &Generated, mentor: &Generated, index: usize) -> Vec<Generated> {
        let client = reference(patient);
        let name = patient.resource["name"][0]["text"].as_str().unwrap_or("cliënt").to_owned();
        let since = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap() + Duration::days(self.rng.random_range(0..2_000));
        let (profile, profile_name) = CARE_PROFILES[self.rng.random_range(0..CARE_PROFILES.len())];
        let role = |i: usize| json!({"reference": format!("PractitionerRole/{}", self.roles.get(i).map(ResourceId::as_str).unwrap_or("unknown"))});
        let care_team = generated(
            ResourceType::CareTeam,
            json!({
                "resourceType": "CareTeam",
                "status": "active",
                "category": [{"coding": [{"system": "http://loinc.org", "code": "LA28865-6", "display": "Longitudinal care-coordination focused care team"}]}],
                "name": format!("Zorgteam van {name}"),
                "subject": client,
                "period": {"start": since.to_string()},
                "participant": [
                    {
                        "role": [{"text": "Persoonlijk begeleider"}],
                        "member": role(0),
                        "onBehalfOf": self.organization_reference()
                    },
                    {
                        "role": [{"text": "Verpleegkundige"}],
                        "member": role(1),
                        "onBehalfOf": self.organization_reference()
                    },
                    {
                        "role": [{"coding": [{"system": ROLE_CODE_NL, "code": "15", "display": "Mentor"}]}],
                        "member": reference(mentor)
                    }
                ],
                "managingOrganization": [self.organization_reference()]
            }),
        );
        let coverage = generated(
            ResourceType::Coverage,
            json!({
                "resourceType": "Coverage",
                "identifier": [{"system": "https://zorgpoort.nl/fhir/NamingSystem/demo/wlz-indicatiebesluit", "value": format!("{}", 2_000_000 + index)}],
                "status": "active",
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "LTC", "display": "long term care policy"}], "text": "Wet langdurige zorg (Wlz)"},
                "beneficiary": client,
                "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "code": "self"}]},
                "period": {"start": since.to_string()},
                "payor": [self.care_office_reference()],
                "class": [{
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan", "display": "Plan"}], "text": "Zorgprofiel"},
                    "value": profile,
                    "name": profile_name
                }]
            }),
        );
        let episode = generated(
            ResourceType::EpisodeOfCare,
            json!({
                "resourceType": "EpisodeOfCare",
                "identifier": [{"system": "https://zorgpoort.nl/fhir/NamingSystem/demo/zorgtraject", "value": format!("ZT-{}", 100_000 + index)}],
                "status": "active",
                "statusHistory": [{"status": "active", "period": {"start": since.to_string()}}],
                "type": [{"text": format!("Wlz-zorg met verblijf ({profile})")}],
                "patient": client,
                "managingOrganization": self.organization_reference(),
                "period": {"start": since.to_string()},
                "careManager": {"reference": format!("Practitioner/{}", self.practitioners.first().map(ResourceId::as_str).unwrap_or("unknown"))},
                "team": [reference(&care_team)]
            }),
        );
        vec![care_team, coverage, episode]
    }

    /// Who wrote a report, and where it came from: the gateway records the
    /// delivery of the care-record system.
    fn provenance(&mut self, target: &Generated, author: &Value) -> Generated {
        let written = ["sent", "effectiveDateTime"]
            .iter()
            .find_map(|element| target.resource[element].as_str())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        let recorded = match written {
            Some(written) => (written + Duration::minutes(self.rng.random_range(2..30))).to_rfc3339(),
            None => self.date_time(2024, 0),
        };
        generated(
            ResourceType::Provenance,
            json!({
                "resourceType": "Provenance",
                "target": [reference(target)],
                "recorded": recorded,
                "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE", "display": "create"}]},
                "agent": [
                    {
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author", "display": "Author"}]},
                        "who": author,
                        "onBehalfOf": self.organization_reference()
                    },
                    {
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "custodian", "display": "Custodian"}]},
                        "who": self.organization_reference()
                    }
                ],
                "entity": [{"role": "source", "what": {"display": "Rapportage uit het elektronisch cliëntdossier (demo)"}}]
            }),
        )
    }

    fn organization_reference(&self) -> Value {
        json!({"reference": format!("Organization/{}", self.organization.as_ref().map(ResourceId::as_str).unwrap_or("unknown"))})
    }

    fn care_office_reference(&self) -> Value {
        json!({"reference": format!("Organization/{}", self.care_office.as_ref().map(ResourceId::as_str).unwrap_or("unknown"))})
    }

    /// The mentor's access grant: a limited one (no `access-log`, so no
    /// full access; no questionnaires, no finance). With `messages`, the
    /// mentor sees the messages they send or receive (every generated
    /// message is addressed to them), not every message of the client.
    fn mentor_grant(&mut self, client: &Value, mentor: &Generated) -> Generated {
        let classes: Vec<Value> =
            ["identity", "profile", "reports", "messages", "measurements", "plan", "agenda", "consents"]
                .iter()
                .map(|c| json!({"system": DataCategory::SYSTEM, "code": c}))
                .collect();
        generated(
            ResourceType::Consent,
            json!({
                "resourceType": "Consent",
                "status": "active",
                "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
                "category": [{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": "access-grant"}]}],
                "patient": client,
                "dateTime": "2024-01-15T10:00:00+01:00",
                "provision": {
                    "type": "permit",
                    "period": {"start": "2024-01-15"},
                    "actor": [{
                        "role": {"coding": [{"system": ROLE_CODE_NL, "code": "15"}]},
                        "reference": reference(mentor)
                    }],
                    "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "access"}]}],
                    "class": classes
                }
            }),
        )
    }

    fn observation(&mut self, client: &Value, i: usize) -> Generated {
        let effective = self.date_time(2023 + (i % 3) as i32, i);
        let vital_signs = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}]);
        let loinc = |code: &str, display: &str| json!({"coding": [{"system": "http://loinc.org", "code": code, "display": display}]});
        let quantity = |value: f64, unit: &str| json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit});
        let mut observation = json!({
            "resourceType": "Observation",
            "status": "final",
            "category": vital_signs,
            "subject": client,
            "effectiveDateTime": effective
        });
        match i % 3 {
            0 => {
                observation["code"] = loinc("29463-7", "Body weight");
                observation["valueQuantity"] = quantity(f64::from(self.rng.random_range(550..950)) / 10.0, "kg");
            }
            1 => {
                observation["code"] = loinc("85354-9", "Blood pressure panel");
                observation["component"] = json!([
                    {"code": loinc("8480-6", "Systolic blood pressure"), "valueQuantity": quantity(f64::from(self.rng.random_range(105..160)), "mm[Hg]")},
                    {"code": loinc("8462-4", "Diastolic blood pressure"), "valueQuantity": quantity(f64::from(self.rng.random_range(60..95)), "mm[Hg]")}
                ]);
            }
            _ => {
                observation["code"] = loinc("8310-5", "Body temperature");
                observation["valueQuantity"] = quantity(f64::from(self.rng.random_range(360..385)) / 10.0, "Cel");
            }
        }
        generated(ResourceType::Observation, observation)
    }

    fn communication(&mut self, client: &Value, practitioner: &Value, mentor: &Generated, i: usize) -> Generated {
        let is_report = i % 3 != 2;
        let (code, text) = if is_report {
            ("report", REPORTS[self.rng.random_range(0..REPORTS.len())])
        } else {
            ("message", MESSAGES[self.rng.random_range(0..MESSAGES.len())])
        };
        let mut communication = json!({
            "resourceType": "Communication",
            "status": "completed",
            "category": [{"coding": [{"system": COMMUNICATION_CATEGORY_SYSTEM, "code": code}]}],
            "subject": client,
            "sent": self.date_time(2024 + (i % 2) as i32, i),
            "sender": practitioner,
            "payload": [{"contentString": text}]
        });
        if !is_report {
            communication["recipient"] = json!([reference(mentor)]);
        }
        generated(ResourceType::Communication, communication)
    }

    fn appointment(&mut self, client: &Value, practitioner: &Value, i: usize) -> Generated {
        let start = self.local(2025, i, 9 + (i % 6) as u32);
        let end = start + Duration::minutes(45);
        generated(
            ResourceType::Appointment,
            json!({
                "resourceType": "Appointment",
                "status": "booked",
                "description": (["Gesprek met persoonlijk begeleider", "Fysiotherapie", "Tandarts", "Evaluatie cliëntplan"][i % 4]),
                "start": start.to_rfc3339(),
                "end": end.to_rfc3339(),
                "participant": [
                    {"actor": client, "status": "accepted"},
                    {"actor": practitioner, "status": "accepted"}
                ]
            }),
        )
    }

    /// A local Amsterdam time in `year` (spread over the year by `i`), with its offset.
    fn date_time(&mut self, year: i32, i: usize) -> String {
        let hour = self.rng.random_range(7..22);
        self.local(year, i, hour).to_rfc3339()
    }

    fn local(&mut self, year: i32, i: usize, hour: u32) -> chrono::DateTime<chrono_tz::Tz> {
        let day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap()
            + Duration::days(((i * 37 + self.rng.random_range(0..30)) % 360) as i64);
        let local = day.and_hms_opt(hour, [0, 15, 30, 45][self.rng.random_range(0..4)], 0).unwrap();
        Amsterdam.from_local_datetime(&local).earliest().unwrap_or_else(|| Amsterdam.from_utc_datetime(&local))
    }

    /// A made-up BSN that passes the 11-check.
    fn bsn(&mut self) -> String {
        loop {
            let digits: Vec<u32> = (0..8).map(|_| self.rng.random_range(0..10)).collect();
            let sum: u32 = digits.iter().enumerate().map(|(i, d)| (9 - i as u32) * d).sum();
            let check = sum % 11;
            if check < 10 && digits[0] != 0 {
                return digits.iter().chain(std::iter::once(&check)).map(|d| d.to_string()).collect();
            }
        }
    }
}

fn family_name(family: &str, prefix: Option<&str>) -> String {
    match prefix {
        Some(prefix) => format!("{prefix} {family}"),
        None => family.to_owned(),
    }
}

fn generated(resource_type: ResourceType, mut resource: Value) -> Generated {
    let id = ResourceId::generate();
    resource["id"] = json!(id.as_str());
    Generated { resource_type, id, resource }
}

fn reference(generated: &Generated) -> Value {
    json!({"reference": format!("{}/{}", generated.resource_type, generated.id)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store;

    #[test]
    fn every_generated_resource_can_be_stored() {
        let mut generator = Generator::new(DemoSize::demo(2), 7);
        let mut all = generator.organisation();
        all.extend(generator.client(0));
        all.extend(generator.client(1));
        for g in all {
            let shown = g.resource.to_string();
            store::prepare(g.resource_type, g.id, g.resource).unwrap_or_else(|e| panic!("{e}: {shown}"));
        }
    }

    #[test]
    fn the_counts_are_what_the_size_says() {
        for size in [
            DemoSize::demo(3),
            DemoSize {
                clients: 2,
                observations_per_client: 0,
                communications_per_client: 0,
                appointments_per_client: 1,
            },
        ] {
            let mut generator = Generator::new(size.clone(), 11);
            let mut all = generator.organisation();
            assert_eq!(all.len(), SHARED_RESOURCES);
            for index in 0..size.clients {
                all.extend(generator.client(index));
            }
            assert_eq!(all.len(), size.resources(), "{size:?}");
            let types: std::collections::BTreeSet<ResourceType> = all.iter().map(|g| g.resource_type).collect();
            let mut expected: Vec<ResourceType> = ResourceType::ALL.to_vec();
            if size.observations_per_client == 0 {
                expected.retain(|t| *t != ResourceType::Observation);
            }
            if size.communications_per_client == 0 {
                expected.retain(|t| *t != ResourceType::Communication);
            }
            assert_eq!(types.into_iter().collect::<Vec<_>>(), expected, "every served type, for every size");
        }
    }

    #[test]
    fn bsns_pass_the_eleven_check() {
        let mut generator = Generator::new(DemoSize::demo(1), 1);
        for _ in 0..100 {
            let bsn = generator.bsn();
            let d: Vec<i64> = bsn.chars().map(|c| c.to_digit(10).unwrap() as i64).collect();
            let sum: i64 = (0..8).map(|i| (9 - i as i64) * d[i]).sum::<i64>() - d[8];
            assert_eq!((bsn.len(), sum % 11), (9, 0), "{bsn}");
        }
    }
}
