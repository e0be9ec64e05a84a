//! What a step learnt about one crate before its files are processed, shared by the crate's files:
//! the crate context of [`crate::engine::FileCtx::crate_ctx`].
//!
//! It sits beside the engine (the core) and names nothing above it. It holds what several steps
//! read (the schema of the crate's protos and where their generated modules are); what only one
//! step needs is that step's own plan type, kept in the context by type
//! ([`CrateCtx::with_plan`], [`CrateCtx::plan`]) so the core never names it.
//!
//! ```text
//! // step 9's prepare:  CrateCtx::default().with_shared_plan(plan.clone())
//! // step 9's pass:     ctx.plan::<step09::Plan>()
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::schema::Schema;

/// What the steps know about one crate, shared by its files.
#[derive(Default)]
pub struct CrateCtx {
    /// The schema of the protos whose messages this crate's code uses.
    pub schema: Option<Arc<Schema>>,
    /// Crate-absolute Rust module path of each generated package module (`["crate", "pb"]`,
    /// `["platform_proto", "v1"]` for a dependency's) and its proto package.
    pub modules: Vec<(Vec<String>, String)>,
    /// The crate runs tonic codegen in its `build.rs` (this file, when set).
    pub build_rs: Option<PathBuf>,
    /// Crate-absolute path of the `connect` module (`["crate", "connect"]`).
    pub connect_module: Vec<String>,
    /// Crate-absolute paths (first segment the crate's name) of type aliases of tonic clients
    /// and of functions returning one, across the workspace, with the service's full proto name.
    pub client_items: Vec<(Vec<String>, String)>,
    /// Each step's own plan for the crate, by its type.
    pub plans: Plans,
}

/// Steps' own plans, one per type (see [`CrateCtx::plan`]).
#[derive(Default)]
pub struct Plans(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl CrateCtx {
    /// The plan of type `T` a step's prepare left for the crate, if any.
    pub fn plan<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.plans
            .0
            .get(&TypeId::of::<T>())
            .and_then(|p| p.downcast_ref::<T>())
    }

    /// Keep `plan` (one value per type: a second one replaces the first).
    pub fn set_plan<T: Any + Send + Sync>(&mut self, plan: Arc<T>) {
        self.plans.0.insert(TypeId::of::<T>(), plan);
    }

    /// The context with `plan` kept.
    pub fn with_plan<T: Any + Send + Sync>(self, plan: T) -> CrateCtx {
        self.with_shared_plan(Arc::new(plan))
    }

    /// The context with `plan`, shared with other crates' contexts, kept.
    pub fn with_shared_plan<T: Any + Send + Sync>(mut self, plan: Arc<T>) -> CrateCtx {
        self.set_plan(plan);
        self
    }
}

impl std::fmt::Debug for CrateCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrateCtx")
            .field("schema", &self.schema.is_some())
            .field("modules", &self.modules)
            .field("build_rs", &self.build_rs)
            .field("connect_module", &self.connect_module)
            .field("client_items", &self.client_items)
            .field("plans", &self.plans.0.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct A(u8);
    #[derive(Debug, PartialEq)]
    struct B(&'static str);

    #[test]
    fn plans_are_kept_by_type() {
        let shared = Arc::new(B("shared"));
        let ctx = CrateCtx::default()
            .with_plan(A(1))
            .with_shared_plan(shared.clone());
        assert_eq!(ctx.plan::<A>(), Some(&A(1)));
        assert_eq!(ctx.plan::<B>(), Some(&B("shared")));
        assert_eq!(Arc::strong_count(&shared), 2);
        assert!(CrateCtx::default().plan::<A>().is_none());
        let mut ctx = ctx;
        ctx.set_plan(Arc::new(A(2)));
        assert_eq!(ctx.plan::<A>(), Some(&A(2)));
    }
}
