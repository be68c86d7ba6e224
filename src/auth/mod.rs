//! Authorisation building blocks: SMART scopes, bearer tokens and the
//! token cache. Later: the OAuth2/OIDC authorisation server (SMART App
//! Launch, Backend Services). Knows nothing of HTTP frameworks.

pub mod cache;
pub mod fresh;
pub mod scope;
pub mod token;
