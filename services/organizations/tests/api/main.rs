//! Organizations' API, exercised over gRPC against a real service on real Postgres and NATS.

mod calling_workload;
mod concurrency;
mod helpers;
mod invitations;
mod leaving;
mod memberships;
mod organizations;
mod privacy;
mod publishing;
mod renames;
mod tenant_admins;
mod terms;
