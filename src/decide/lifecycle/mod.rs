//! The stage lifecycle (deploy, diff, status, destroy, stages): its model, its pure decisions,
//! and how they are shown.

pub mod model;
pub mod plan;
pub mod preflight;
pub mod render;
