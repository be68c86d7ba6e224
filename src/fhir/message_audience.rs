//! Who on the client side sees a message: each vendor's contract, decided
//! when the message is mapped and stored on it as a `meta.tag`, so that a
//! query can apply it (`access-model.md`, "Messages").

use serde_json::Value;

/// A message's audience on the client side, besides its sender and
/// recipients, who always see it (given the messages category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageAudience {
    /// Pluriform: representatives with full access see every message of
    /// the client; the client only the messages they take part in.
    ParticipantsAndFullAccess,
    /// Caress: the client sees every message; a contact person only their
    /// own, full access or not.
    ClientAndParticipants,
}

impl MessageAudience {
    /// The project's CodeSystem (published in `conformance/`).
    pub const SYSTEM: &'static str = "https://zorgpoort.nl/fhir/CodeSystem/message-audience";

    /// The search parameter whose index holds the tag (`_tag`).
    pub const SEARCH_PARAM: &'static str = "_tag";

    pub const ALL: [MessageAudience; 2] =
        [MessageAudience::ParticipantsAndFullAccess, MessageAudience::ClientAndParticipants];

    pub fn code(self) -> &'static str {
        match self {
            MessageAudience::ParticipantsAndFullAccess => "participants-and-full-access",
            MessageAudience::ClientAndParticipants => "client-and-participants",
        }
    }

    pub fn from_code(code: &str) -> Option<MessageAudience> {
        MessageAudience::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The audience a stored message names in `meta.tag`. A message without
    /// one (written through the API without it) is seen by its sender and
    /// recipients only.
    pub fn of(message: &Value) -> Option<MessageAudience> {
        message
            .pointer("/meta/tag")?
            .as_array()?
            .iter()
            .filter(|tag| tag.get("system").and_then(Value::as_str) == Some(Self::SYSTEM))
            .find_map(|tag| MessageAudience::from_code(tag.get("code")?.as_str()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for audience in MessageAudience::ALL {
            assert_eq!(MessageAudience::from_code(audience.code()), Some(audience));
        }
        assert_eq!(MessageAudience::from_code("everyone"), None);
    }

    #[test]
    fn the_audience_is_read_from_the_tag_of_its_system_only() {
        let tagged = |system: &str, code: &str| {
            serde_json::json!({"meta": {"tag": [
                {"system": "https://example.org/other", "code": "client-and-participants"},
                {"system": system, "code": code}
            ]}})
        };
        assert_eq!(
            MessageAudience::of(&tagged(MessageAudience::SYSTEM, "client-and-participants")),
            Some(MessageAudience::ClientAndParticipants)
        );
        assert_eq!(MessageAudience::of(&tagged("https://example.org/x", "participants-and-full-access")), None);
        assert_eq!(MessageAudience::of(&tagged(MessageAudience::SYSTEM, "everyone")), None);
        assert_eq!(MessageAudience::of(&serde_json::json!({"resourceType": "Communication"})), None);
    }
}
