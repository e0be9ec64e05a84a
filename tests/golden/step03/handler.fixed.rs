//! Inventory service: the server half.

use std::collections::HashMap;

use tonic::{Code, Request, Response, Status};
use tonic::Status as RpcStatus;

use crate::pb::inventory_server::Inventory;
use crate::pb::{Item, ItemId};

/// Errors of the storage layer.
#[derive(Debug)]
pub enum StoreError {
    Missing(String),
    Busy,
}

pub struct InventoryService {
    items: HashMap<String, Item>,
}

impl InventoryService {
    fn lookup(&self, id: &str) -> Result<&Item, Status> {
        self.items
            .get(id)
            // Callers map this to a 404 in the gateway.
            .ok_or_else(|| Status::not_found(format!("no item {id}")))
    }
}

#[tonic::async_trait]
impl Inventory for InventoryService {
    async fn get_item(&self, request: Request<ItemId>) -> Result<Response<Item>, Status> {
        let id = request.into_inner().id;
        if id.is_empty() {
            return Err(Status::new(
                Code::InvalidArgument, // the only client error
                "id is empty",
            ));
        }
        let item = self.lookup(&id)?;
        Ok(Response::new(item.clone()))
    }

    async fn reserve(&self, _request: Request<ItemId>) -> Result<Response<Item>, RpcStatus> {
        Err(RpcStatus::cancelled("reservations are closed"))
    }

    async fn audit(&self, _request: Request<ItemId>) -> Result<Response<Item>, tonic::Status> {
        let code = tonic::Code::Cancelled;
        Err(tonic::Status::new(code, "audit is off"))
    }
}
