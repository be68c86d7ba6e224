//! The contract's quirks and bad records through `mappings/pluriform`, at
//! engine level: the exact value, or the exact rejection (field and
//! reason), with the record kept whole for a replay.

use serde_json::{Value, json};

use super::{map_pluriform, mapped, rejected, written};

fn measurement(meetsoort: &str, waarde: &str, eenheid: &str, toelichting: Value, tijdstip: &str) -> Value {
    json!({"id": "M-1", "meetsoort": meetsoort, "waarde": waarde, "eenheid": eenheid, "toelichting": toelichting,
           "tijdstip": tijdstip, "medewerker": "M-17", "gewijzigd": "2026-11-20T09:00:00+01:00"})
}

fn report(datum: &str) -> Value {
    json!({"id": "RR-1", "datum": datum, "auteur": {"soort": "client"}, "tekst": "x", "portaal": "J",
           "gewijzigd": "2026-11-20T09:00:00+01:00"})
}

fn client(field: &str, value: Value) -> Value {
    let mut client = json!({"clientnummer": "100234", "bsn": "999911120",
                            "naam": {"voornamen": "Tharah", "achternaam": "Berg"}, "geboortedatum": "19-07-1995",
                            "geslacht": "V", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    client[field] = value;
    client
}

/// A rejection: (kind, source id, field, reason), and the record kept.
fn check_rejected(kind: &str, record: Value, field: &str, reason: &str) {
    let outcome = map_pluriform(kind, record.clone());
    let rejection = rejected(&outcome);
    assert_eq!(
        (rejection.kind.as_str(), rejection.field.as_str(), rejection.reason.as_str()),
        (kind, field, reason),
        "{record}"
    );
    assert!(rejection.source_id.is_some());
    assert_eq!(rejection.record, record, "kept whole for a replay");
}

#[test]
fn local_times_take_the_offset_of_their_date() {
    let cases = [
        ("03-05-2023 18:30", "2023-05-03T18:30:00+02:00"),
        ("16-12-2024 09:05", "2024-12-16T09:05:00+01:00"),
        // The autumn hour happens twice: the earlier, summer one.
        ("25-10-2026 02:30", "2026-10-25T02:30:00+02:00"),
        ("25-10-2026 03:00", "2026-10-25T03:00:00+01:00"),
        ("29-03-2026 03:00", "2026-03-29T03:00:00+02:00"),
    ];
    for (datum, sent) in cases {
        assert_eq!(written(mapped(&map_pluriform("rapportage", report(datum))))["sent"], sent, "{datum}");
    }
    let weight = measurement("Gewicht", "56,0", "kg", Value::Null, "Wo 3 mei 2023 | 18:30");
    assert_eq!(written(mapped(&map_pluriform("meting", weight)))["effectiveDateTime"], "2023-05-03T18:30:00+02:00");
    let winter = measurement("Gewicht", "56,0", "kg", Value::Null, "Ma 16 dec 2024 | 09:05");
    assert_eq!(written(mapped(&map_pluriform("meting", winter)))["effectiveDateTime"], "2024-12-16T09:05:00+01:00");
}

#[test]
fn the_spring_forward_hour_does_not_exist() {
    check_rejected(
        "rapportage",
        report("29-03-2026 02:30"),
        "datum",
        "\"29-03-2026 02:30\" does not exist in Europe/Amsterdam: on 29 March 2026 the clocks go forward from 02:00 to 03:00",
    );
}

#[test]
fn a_weekday_must_match_its_date() {
    check_rejected(
        "meting",
        measurement("Gewicht", "56,0", "kg", Value::Null, "Di 3 mei 2023 | 18:30"),
        "tijdstip",
        "\"Di 3 mei 2023 | 18:30\": weekday \"Di\" does not match 3 May 2023, which is a Wednesday",
    );
}

#[test]
fn decimals_with_a_comma_and_units_in_ucum() {
    let weight = written(mapped(&map_pluriform(
        "meting",
        measurement("Gewicht", "56,0", "kg", Value::Null, "Wo 3 mei 2023 | 18:30"),
    )));
    assert_eq!(
        weight["valueQuantity"],
        json!({"value": 56.0, "unit": "kg", "system": "http://unitsofmeasure.org",
                                              "code": "kg"})
    );
    assert_eq!(
        weight["code"]["coding"][0],
        json!({"system": "http://loinc.org", "code": "29463-7",
                                                  "display": "Body weight"})
    );
    let temperature = written(mapped(&map_pluriform(
        "meting",
        measurement("Temperatuur", "37,2", "°C", json!("Oor"), "Wo 3 mei 2023 | 18:30"),
    )));
    assert_eq!(temperature["valueQuantity"]["code"], "Cel");
    assert_eq!(temperature["code"]["coding"][1]["code"], "415974002");
    let sugar = written(mapped(&map_pluriform(
        "meting",
        measurement("Bloedsuiker", "5,4", "mmol/l", json!("Nuchter"), "Wo 3 mei 2023 | 18:30"),
    )));
    assert_eq!((&sugar["valueQuantity"]["code"], &sugar["note"]), (&json!("mmol/L"), &json!([{"text": "Nuchter"}])));
}

#[test]
fn an_unknown_kind_of_measurement_is_kept_with_a_warning() {
    let outcome =
        map_pluriform("meting", measurement("Buikomtrek", "91,2", "cm", Value::Null, "Wo 3 mei 2023 | 18:30"));
    let record = mapped(&outcome);
    assert_eq!(record.warnings, ["`Buikomtrek` is not a known code of `meting_bekend`; taken as its otherwise"]);
    let observation = written(record);
    assert_eq!((&observation["code"], &observation["valueString"]), (&json!({"text": "Buikomtrek"}), &json!("91,2")));
}

#[test]
fn a_bsn_must_pass_the_eleven_check() {
    check_rejected(
        "client",
        client("bsn", json!("999911121")),
        "bsn",
        "\"999911121\" is not a valid BSN: it fails the 11-check (elfproef): the weighted sum 285 is not a multiple of 11",
    );
    assert_eq!(
        written(mapped(&map_pluriform("client", client("bsn", json!("999990019")))))["identifier"][0]["value"],
        "999990019"
    );
}

#[test]
fn an_impossible_date_is_a_bad_field() {
    check_rejected(
        "client",
        client("geboortedatum", json!("31-02-2024")),
        "geboortedatum",
        "\"31-02-2024\" is not a date: February 2024 has 29 days",
    );
}

#[test]
fn a_missing_required_field_rejects_the_record() {
    let mut without_value = measurement("Gewicht", "", "kg", Value::Null, "Wo 3 mei 2023 | 18:30");
    check_rejected("meting", without_value.clone(), "waarde", "is required but missing or empty");
    without_value.as_object_mut().unwrap().remove("waarde");
    check_rejected("meting", without_value, "waarde", "is required but missing or empty");
    let mut without_text = report("03-05-2023 18:30");
    without_text["tekst"] = Value::Null;
    check_rejected("rapportage", without_text, "tekst", "is required but missing or empty");
}

#[test]
fn an_unknown_code_without_a_fallback_rejects_the_record() {
    check_rejected(
        "client",
        client("geslacht", json!("Q")),
        "geslacht",
        "`Q` is not one of the known codes (M, O, V, X)",
    );
    let goal = json!({"id": "D-1", "omschrijving": "x", "status": "bijna", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    check_rejected(
        "doel",
        goal,
        "status",
        "`bijna` is not one of the known codes (actief, behaald, gedeeltelijk_behaald, gestopt)",
    );
    let invoice = json!({"id": "F-1", "bedrag": "1,00 €", "status": "open", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    check_rejected(
        "factuur",
        invoice,
        "status",
        "`open` is not one of the known codes (betaald, gecrediteerd, verzonden)",
    );
    let consent =
        json!({"id": "T-1", "onderwerp": "x", "waarde": "misschien", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    check_rejected("toestemming", consent, "waarde", "`misschien` is not one of the known codes (J, N)");
}

#[test]
fn money_with_a_thousands_dot_a_decimal_comma_and_a_euro_sign() {
    let cases = [
        ("3.578,54 €", json!({"value": 3578.54, "currency": "EUR"})),
        ("265,01 €", json!({"value": 265.01, "currency": "EUR"})),
        // The fraction is kept exactly as written.
        ("-1.000,00 €", serde_json::from_str(r#"{"value": -1000.00, "currency": "EUR"}"#).unwrap()),
    ];
    for (bedrag, money) in cases {
        let invoice =
            json!({"id": "F-1", "bedrag": bedrag, "status": "verzonden", "gewijzigd": "2026-11-20T09:00:00+01:00"});
        let invoice = written(mapped(&map_pluriform("factuur", invoice)));
        assert_eq!((&invoice["totalNet"], &invoice["totalGross"]), (&money, &money), "{bedrag}");
    }
    let bad =
        json!({"id": "F-2", "bedrag": "3,578.54 €", "status": "verzonden", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("factuur", bad);
    assert_eq!(rejected(&outcome).field, "bedrag");
}

#[test]
fn periods_with_t_m_and_with_a_dash() {
    for periode in ["07-07-2021 t/m 03-02-2022", "07-07-2021 - 03-02-2022"] {
        let evaluation = json!({"id": "EV-1", "periode": periode, "gewijzigd": "2026-11-20T09:00:00+01:00"});
        let evaluation = written(mapped(&map_pluriform("evaluatie", evaluation)));
        assert_eq!(evaluation["context"]["period"], json!({"start": "2021-07-07", "end": "2022-02-03"}), "{periode}");
    }
    let backwards =
        json!({"id": "EV-2", "periode": "03-02-2022 t/m 07-07-2021", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("evaluatie", backwards);
    assert_eq!(rejected(&outcome).field, "periode");
}

#[test]
fn an_unknown_kind_or_level_of_representative_is_no_access_with_a_warning() {
    let representative = |soort: &str, portaaltoegang: &str| {
        json!({"relatienummer": "R-1", "naam": {"achternaam": "Jansen"}, "soort": soort, "volgorde": null,
               "portaaltoegang": portaaltoegang, "mag_schrijven": "J", "gewijzigd": "2026-11-20T09:00:00+01:00"})
    };
    for (soort, level, warning) in [
        ("stiefoom", "volledig", "`stiefoom` is not a known code of `soort`; taken as its otherwise"),
        ("naaste", "alles", "`alles` is not a known code of `leesrechten`; taken as its otherwise"),
    ] {
        let outcome = map_pluriform("vertegenwoordiger", representative(soort, level));
        let record = mapped(&outcome);
        assert_eq!(record.warnings, [warning]);
        let grant = super::part(record, "grant");
        assert_eq!(grant["status"], "inactive");
        assert!(grant["provision"].get("class").is_none(), "{grant}");
        assert!(grant["provision"].get("provision").is_none(), "{grant}");
    }
}
