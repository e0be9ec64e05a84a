use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

pub async fn has_details(client: &mut Client) -> bool {
    let status = client
        .balance(String::new())
        .await
        .unwrap_err();
    !status.details.is_empty()
}
