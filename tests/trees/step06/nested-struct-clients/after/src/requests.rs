//! Request builders: each holds the SDK, whose client field is declared in another file.

use std::marker::PhantomData;

use crate::{pb, Error, Sdk};

/// The builder's state before it knows the account.
pub struct Unnamed;
/// The builder's state once it knows the account.
pub struct Named;

/// A balance query, in a typed state.
pub struct BalanceRequest<S> {
    sdk: Sdk,
    account: String,
    state: PhantomData<S>,
}

impl BalanceRequest<Unnamed> {
    pub fn new(sdk: Sdk) -> Self {
        BalanceRequest { sdk, account: String::new(), state: PhantomData }
    }

    pub fn account(self, name: &str) -> BalanceRequest<Named> {
        BalanceRequest { sdk: self.sdk, account: name.to_string(), state: PhantomData }
    }
}

impl BalanceRequest<Named> {
    /// The balance in cents.
    pub async fn send(mut self) -> Result<i64, Error> {
        let res = self
            .sdk
            .client
            .balance(pb::Account { name: self.account, ..Default::default() })
            .await.map_err(connect_shim::status::to_status)?;

        Ok(res.into_owned().cents)
    }
}

/// A credit: the SDK and the entry, by position.
pub struct CreditRequest(pub Sdk, pub pb::Entry);

impl CreditRequest {
    /// The balance after the credit.
    pub async fn send(mut self) -> Result<i64, Error> {
        let result = self
            .0
            .client
            .credit(self.1)
            .await.map_err(connect_shim::status::to_status)?;

        Ok(result.into_owned().cents)
    }
}

/// Follows an account's balance in a task.
pub struct Follower {
    sdk: Sdk,
}

impl Follower {
    pub fn new(sdk: Sdk) -> Self {
        Follower { sdk }
    }

    /// Sends each new balance of `name` to `tx`.
    pub fn start(&self, name: String, tx: tokio::sync::mpsc::Sender<i64>) {
        let mut sdk = self.sdk.clone();
        tokio::spawn(async move {
            let res = connect_shim::client::tonic_server_stream(tonic::Request::new(pb::Account { name, ..Default::default() }), |request, options| sdk
                .client.follow_with_options(request, options))
                .await
                .map(|response| response.into_inner());
            if let Ok(mut stream) = res {
                while let Ok(Some(amount)) = stream.message().await {
                    let _ = tx.send(amount.cents).await;
                }
            }
        });
    }
}
