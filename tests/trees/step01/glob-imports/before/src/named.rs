use crate::pb::{HelloReply, HelloRequest};

pub fn request(name: &str) -> HelloRequest {
    HelloRequest {
        name: name.to_string(),
        times: 1,
    }
}

pub fn reply(r: &HelloRequest) -> HelloReply {
    HelloReply {
        message: format!("Hello {}!", r.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_three_times() {
        let r = HelloRequest {
            name: "t".to_string(),
            times: 3,
        };
        assert_eq!(request(&r.name).name, "t");
    }
}
