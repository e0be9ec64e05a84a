//! A server written against tonic's stubs by glob imports: after step 1 the generated module
//! also re-exports connectrpc's `Atlas` trait and `AtlasServer` (a glob the step writes), so
//! the same names come from two globs.

pub mod atlas {
    tonic::include_proto!("atlas");
}

pub mod serve {
    use crate::atlas::atlas_server::*;
    use crate::atlas::*;

    pub struct Here;

    #[tonic::async_trait]
    impl Atlas for Here {
        async fn locate(
            &self,
            request: tonic::Request<LocateRequest>,
        ) -> Result<tonic::Response<LocateReply>, tonic::Status> {
            let mut reply = LocateReply::default();
            reply.name = format!("{:?}", request.get_ref().kind);
            Ok(tonic::Response::new(reply))
        }
    }

    pub fn service() -> AtlasServer<Here> {
        AtlasServer::new(Here)
    }
}
