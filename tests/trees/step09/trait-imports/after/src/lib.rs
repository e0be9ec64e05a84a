//! Headers for every call (an interceptor once; step 6 made it a method).

mod legacy;

pub struct Auth {
    pub token: http::HeaderValue,
}

impl Auth {
    pub fn headers(&self) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", self.token.clone());
        headers
    }
}
