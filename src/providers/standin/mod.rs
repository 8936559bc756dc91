//! A stand-in for the parts of Stripe's and PayPal's APIs mgrid uses, for the local stage and
//! the tests: an HTTP server answering at `<base>/stripe/v1/…` and `<base>/paypal/v1/…` in the
//! shapes of the providers' published OpenAPI documents (kept under `tests/providers/`, and the
//! answers validated against them), with their authentication (Stripe's key as a bearer token;
//! PayPal's OAuth client credentials, then an access token), their pagination (Stripe's
//! `limit`/`starting_after`/`has_more`), their errors, and a 429 with `Retry-After` when asked to.
//!
//! It keeps state like a provider: webhook endpoints with their URLs (carrying the stage's key),
//! status, subscriptions and signing secret, and the events sent through it, saved to a file so
//! it survives a restart of `mgrid dev`. Beside the providers' routes, `/_standin/…` lets a test
//! or `mgrid send` act as the provider would: deliver an event to the endpoints subscribed to it
//! (`POST /_standin/<provider>/deliver`), or throttle the next requests
//! (`POST /_standin/throttle`). Those control routes sign as the provider and spend the stage's
//! API key, so they answer only a caller holding the stand-in's control token (a bearer token
//! `mgrid dev` keeps in the stage's owner-only data directory): another local user who finds
//! the port is refused, as the real providers refuse a caller without their credentials.

mod call;
mod control;
mod events;
mod paypal;
mod server;
mod state;
mod stripe;

pub use paypal::paypal_object;
pub use server::StandIn;
pub use state::{Credentials, Endpoint, Event};
pub use stripe::stripe_object;
