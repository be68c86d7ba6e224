//! Authorisation building blocks: SMART scopes and bearer tokens.
//! Later: the OAuth2/OIDC authorisation server (SMART App
//! Launch, Backend Services). Knows nothing of HTTP frameworks.

pub mod scope;
pub mod token;
