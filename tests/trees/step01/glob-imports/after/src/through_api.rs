use crate::api::*;

pub fn request(name: &str) -> HelloRequest {
    HelloRequest {
        name: name.to_string(),
        times: 1,
        ..Default::default()
    }
}

pub fn reply(r: &HelloRequest) -> HelloReply {
    HelloReply {
        message: format!("Hello {}!", r.name),
        ..Default::default()
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
            ..Default::default()
        };
        assert_eq!(request(&r.name).name, "t");
    }
}
