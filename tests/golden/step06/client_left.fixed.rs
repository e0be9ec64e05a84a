use crate::pb::shop_client::ShopClient;
use crate::pb::GetRequest;

/// A client on a custom tower service: the step does not rewrite `with_origin` on it, so
/// this file's shop clients stay on tonic, calls included.
async fn custom(service: h2c::Service) -> Result<(), tonic::Status> {
    let origin = http::Uri::from_static("http://[::1]:50051");
    let mut client = ShopClient::with_origin(service, origin);
    let reply = client.get(GetRequest::default()).await?;
    println!("{:?}", reply.into_inner().name);
    Ok(())
}

/// A blocking wrapper: `connect` is not awaited in place.
struct Blocking {
    client: ShopClient<tonic::transport::Channel>,
    rt: tokio::runtime::Runtime,
}

impl Blocking {
    fn connect(dst: &'static str) -> Result<Self, tonic::transport::Error> {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let client = rt.block_on(ShopClient::connect(dst))?;
        Ok(Self { client, rt })
    }

    fn get(&mut self, request: GetRequest) -> Result<tonic::Response<crate::pb::GetResponse>, tonic::Status> {
        self.rt.block_on(self.client.get(request))
    }
}
