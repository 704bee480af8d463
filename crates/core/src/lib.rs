//! The core of stockwatch: the ports every backend implements (`ports`),
//! the pipeline that moves files to rows and rows to alerts (`pipeline`),
//! the settings the front ends share (`settings`, `aws_settings`) and what
//! every front end needs to run (`logging`, `shutdown`). It knows no
//! backend and no front end: the crate graph keeps it so.

pub mod app;
pub mod aws_settings;
pub mod live;
pub mod logging;
pub mod pipeline;
pub mod ports;
pub mod settings;
pub mod shutdown;
