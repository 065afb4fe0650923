//! What the load generators send: the target, the body and its type, the token.

use std::path::PathBuf;

const SEED_FORM: &str =
    "x=[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]";

#[derive(clap::Args)]
pub struct RequestArgs {
    /// Where to POST.
    #[arg(long)]
    pub url: String,
    /// Request body (default: the seed's form request).
    #[arg(long)]
    body_file: Option<PathBuf>,
    #[arg(long, default_value = "application/x-www-form-urlencoded")]
    content_type: String,
    /// Bearer token (e.g. `gcloud auth print-identity-token`), also read from TOKEN.
    #[arg(long, env = "TOKEN")]
    token: Option<String>,
}

impl RequestArgs {
    /// The body to send, read once.
    pub fn body(&self) -> Vec<u8> {
        match &self.body_file {
            Some(path) => std::fs::read(path).expect("reads the body file"),
            None => SEED_FORM.as_bytes().to_vec(),
        }
    }

    /// A request with this target, content type and token, and `body`.
    pub fn build(&self, client: &reqwest::Client, body: Vec<u8>) -> reqwest::RequestBuilder {
        let request = client
            .post(&self.url)
            .header("content-type", &self.content_type)
            .body(body);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

/// What went wrong with a request, with its causes (reqwest's own message is only the outermost).
pub fn describe_error(error: &reqwest::Error) -> String {
    let mut description = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        description.push_str(": ");
        description.push_str(&cause.to_string());
        source = cause.source();
    }
    description
}
